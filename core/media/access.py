"""Who may see a photo: its uploader, the centre, and whoever a package says may.

Core does not know what a photo belongs to (a case, a call, a camera event). Each package that
attaches photos to something says who may see them through `add_media_access` in its
`configure` (the case core: whoever may see a case holding the photo). Ids are sequential, so
a photo nobody vouches for answers 404, never 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.auth.scope import CITYWIDE
from core.auth.service import Principal
from core.media.models import MediaObject
from core.runtime import Runtime, ServiceKey

# (caller, media id) → whether something the caller may see holds this photo.
MediaAccess = Callable[[Principal, int], Awaitable[bool]]
MEDIA_ACCESS: ServiceKey[list[MediaAccess]] = ServiceKey("core.media_access")


def _rules(runtime: Runtime) -> list[MediaAccess]:
    if MEDIA_ACCESS not in runtime:
        runtime[MEDIA_ACCESS] = []
    return runtime[MEDIA_ACCESS]


def add_media_access(runtime: Runtime, rule: MediaAccess) -> None:
    """Let a package vouch for callers who may see the photos it holds."""
    _rules(runtime).append(rule)


def uploaded_by(who: Principal, media: MediaObject) -> bool:
    """Tell whether the caller uploaded this row (staff and citizens apart)."""
    if who.is_staff:
        return media.uploaded_by_staff_id == who.id
    return media.uploaded_by_citizen_id in who.person


async def may_see(runtime: Runtime, who: Principal, media: MediaObject) -> bool:
    """The uploader, the centre's citywide roles, or a caller a package vouches for."""
    if uploaded_by(who, media) or (who.is_staff and who.has_any(CITYWIDE)):
        return True
    for rule in _rules(runtime):
        if await rule(who, media.id):
            return True
    return False
