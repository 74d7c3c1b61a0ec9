"""The field app's settings (CITYLOOP_GRID_APP_*): what a photo must show, how tracks are
judged, how much one sync may carry, and where pushes go besides the event stream."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GridAppConfig(BaseSettings):
    """CITYLOOP_GRID_APP_*; the defaults suit a city that has not decided yet."""

    model_config = SettingsConfigDict(env_prefix="CITYLOOP_GRID_APP_", extra="forbid", frozen=True)

    photo_max_age_h: float = Field(
        2.0, gt=0, le=720, description="a report's photo taken longer before it is flagged stale"
    )
    grid_tolerance_m: float = Field(
        50.0,
        ge=0,
        le=5000,
        description="a photo this far outside the inspector's grids is still inside (GPS error, "
        "a problem across the street from the grid's edge)",
    )
    gps_tolerance_m: float = Field(
        100.0,
        ge=0,
        le=10_000,
        description="a photo's EXIF position farther than this from the report's point is flagged",
    )
    clock_skew_s: int = Field(
        300, ge=0, le=86_400, description="a photo 'taken' up to this long after its report is fine"
    )
    track_gap_s: int = Field(
        300, ge=10, le=86_400, description="silence before a track point that marks it a gap"
    )
    max_speed_kmh: float = Field(
        80.0,
        gt=0,
        le=1000,
        description="faster than this between two points is a jump (inspectors walk, cycle "
        "or drive a patrol car)",
    )
    coverage_accuracy_m: float = Field(
        50.0,
        gt=0,
        le=1000,
        description="points the phone itself places worse than this count for no coverage",
    )
    coverage_width_m: float = Field(
        20.0,
        gt=0,
        le=500,
        description="what one walk covers either side of its line (an inspector sees a street)",
    )
    on_duty_fresh_min: int = Field(
        15,
        ge=1,
        le=1440,
        description="an on-duty inspector's latest point older than this does not place them",
    )
    sync_max_items: int = Field(200, ge=1, le=5000, description="items in one sync batch")
    sync_max_photos: int = Field(
        30, ge=0, le=500, description="photos sent inside one sync request (multipart parts)"
    )
    track_max_points: int = Field(
        2000, ge=1, le=100_000, description="GPS points in one track upload or track item"
    )
    push_transports: tuple[str, ...] = Field(
        (),
        description="'module:attribute' of each vendor push transport (a PushTransport: 极光, "
        "个推, a phone maker's); the event stream needs none",
    )
    sse_ping_s: float = Field(
        15.0, gt=0, le=300, description="a comment line this often keeps proxies from closing"
    )
