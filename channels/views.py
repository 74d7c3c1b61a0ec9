"""The routes of every channel in CHANNELS."""

from __future__ import annotations

from typing import Any

from channels import CHANNELS

routes: list[Any] = [route for channel in CHANNELS for route in channel.routes()]
