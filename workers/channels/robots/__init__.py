"""Chat-group robot platforms, one module each: how a post is written and signed for the
platform, and which of its answers mean "slow down" rather than "never". A new platform is one
new module here, added to :data:`PLATFORMS`."""

from __future__ import annotations

from workers.channels.robots import dingtalk, feishu, generic, wecom
from workers.channels.robots.base import GroupPost, Platform

PLATFORMS: dict[str, Platform] = {
    module.PLATFORM.name: module.PLATFORM for module in (wecom, dingtalk, feishu, generic)
}

__all__ = ["PLATFORMS", "GroupPost", "Platform"]
