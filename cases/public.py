"""What a citizen may see of a case: their own report, its progress, the fix; not the centre's
notes, other reporters' words or photos, tasks or pending requests."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from cases.const import OPEN_STATUSES, STATUS_NAMES, Action, AttachmentKind
from cases.models import Case, CaseEvent, Report
from cases.schemas import CaseOut, CaseReporter, NearbyCase
from core.geo import distance_m

M_PER_DEG = 111_320.0  # metres per degree of latitude (and of longitude at the equator)


async def own_reports(
    person: Iterable[int], case_ids: list[int]
) -> dict[int, tuple[str, set[int]]]:
    """Per case: the citizen's first report text and the ids of all their reports on it
    (`person`: their identities in every channel)."""
    rows = (
        await Report.filter(citizen_id__in=list(person), case_id__in=case_ids)
        .order_by("id")
        .values("id", "case_id", "description")
    )
    mine: dict[int, tuple[str, set[int]]] = {}
    for r in rows:
        text, ids = mine.get(r["case_id"], (r["description"], set()))
        mine[r["case_id"]] = (text, ids | {r["id"]})
    return mine


def case_for_citizen(out: CaseOut, own_text: str | None) -> CaseOut:
    """Their own words instead of the first reporter's; no pending internal request."""
    return out.model_copy(
        update={"description": own_text if own_text is not None else "", "pending_request": None}
    )


def _own_event(e: CaseEvent, report_ids: set[int]) -> bool:
    return e.action in (Action.REPORT, Action.DUPLICATE) and e.data.get("report_id") in report_ids


def events_for_citizen(
    events: list[CaseEvent], report_ids: set[int], moves: frozenset[Action]
) -> list[CaseEvent]:
    """Their own report events in full; the city's shown moves without notes, actors, data.

    `moves` is the profile's `workflow.citizen_sees` (督办, 超期 and internal requests stay
    inside by default).
    """
    shown = []
    for e in events:
        if _own_event(e, report_ids):
            shown.append(e)
        elif e.action in moves and e.action not in (Action.REPORT, Action.DUPLICATE):
            shown.append(
                CaseEvent(
                    id=e.id,
                    case_id=e.case_id,
                    action=e.action,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    actor_id=None,
                    actor_kind="staff" if e.actor_id else e.actor_kind,
                    note="",
                    data={},
                    created_at=e.created_at,
                )
            )
    return shown


def attachments_for_citizen(
    links: list[dict[str, Any]], events: list[CaseEvent], report_ids: set[int]
) -> list[dict[str, Any]]:
    """Their own photos and the department's after-photos."""
    own_events = {e.id for e in events if _own_event(e, report_ids)}
    return [a for a in links if a["kind"] == AttachmentKind.AFTER or a["event_id"] in own_events]


async def open_near(
    lon: float, lat: float, *, radius_m: float, limit: int = 20
) -> list[NearbyCase]:
    """Open cases within radius_m of a WGS-84 point, nearest first: so that a citizen sees a
    problem is known already (and the centre's duplicates stay few)."""
    dlat = radius_m / M_PER_DEG
    dlon = radius_m / (M_PER_DEG * max(math.cos(math.radians(lat)), 0.01))
    rows = await Case.filter(
        status__in=list(OPEN_STATUSES),
        lon__gte=lon - dlon,
        lon__lte=lon + dlon,
        lat__gte=lat - dlat,
        lat__lte=lat + dlat,
    ).limit(500)
    near = []
    for case in rows:
        if case.lon is None or case.lat is None:
            continue
        distance = distance_m(lon, lat, case.lon, case.lat)
        if distance <= radius_m:
            near.append(
                NearbyCase(
                    number=case.number,
                    status=case.status.value,
                    status_name=STATUS_NAMES[case.status],
                    category_name=case.category_name,
                    lon=case.lon,
                    lat=case.lat,
                    distance_m=round(distance, 1),
                    created_at=case.created_at,
                )
            )
    return sorted(near, key=lambda n: n.distance_m)[:limit]


async def citizen_reporters(case_id: int) -> list[CaseReporter]:
    """Every citizen who reported this case, one per report, oldest first (staff and cameras
    are not citizens: their reports are not here)."""
    rows = await Report.filter(case_id=case_id, citizen_id__not_isnull=True).order_by("id")
    return [
        CaseReporter(
            report_id=r.id,
            citizen_id=r.citizen_id,
            source=r.source,
            no_callback=r.no_callback,
            reported_at=r.created_at,
        )
        for r in rows
        if r.citizen_id is not None
    ]
