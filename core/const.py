"""Names and key strings shared across core."""

from typing import Final

ENV_PREFIX: Final = "CITYLOOP_"
# Shown to people in Asia/Shanghai; stored in UTC.
DISPLAY_TZ: Final = "Asia/Shanghai"
REQUEST_ID_HEADER: Final = "X-Request-ID"
