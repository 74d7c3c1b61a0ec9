"""notify.<channel> for every channel in CHANNELS: a reporter's notice through their channel."""

from __future__ import annotations

from channels import CHANNELS
from channels.base import notify_job
from core.jobs.registry import job

for _channel in CHANNELS:
    job(f"notify.{_channel.name}")(notify_job(_channel))
