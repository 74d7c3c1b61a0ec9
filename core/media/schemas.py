"""Media output shapes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.timeutil import LocalDatetime


class MediaOut(BaseModel):
    id: int
    sha256: str
    mime: str
    size: int
    width: int
    height: int
    public_url: str = Field(description="metadata-free copy, safe to show to the public")
    thumb_url: str
    original_url: str | None = Field(None, description="the untouched original: staff only")
    gps_lon: float | None = Field(None, description="EXIF evidence, staff only")
    gps_lat: float | None = None
    taken_at: LocalDatetime | None = None
