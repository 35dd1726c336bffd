"""The vocabulary shared by API, storage, bus and workers: kinds, chapters, statuses."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What a session is for."""

    PROJECT_DOCKING = "project-docking"  # 项目对接会
    TECH_EXCHANGE = "tech-exchange"  # 技术交流会


class Chapter(StrEnum):
    """The province office and its seven city chapters."""

    PROVINCE = "province"
    WENZHOU = "wenzhou"
    NINGBO = "ningbo"
    JIAXING = "jiaxing"
    YIWU = "yiwu"
    TAIZHOU = "taizhou"
    HUZHOU = "huzhou"
    SHAOXING = "shaoxing"


class SkipHolidays(StrEnum):
    """What a series does with sessions that fall on Chinese statutory holidays."""

    NONE = "none"
    CN_STATUTORY = "cn-statutory"  # drop the session
    CN_STATUTORY_SHIFT = "cn-statutory-shift"  # move it to the next working day


class Locale(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


class Role(StrEnum):
    """What an API key may touch: everything, or one chapter's series and members."""

    ADMIN = "admin"
    CHAPTER = "chapter"


class SeriesStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class OccurrenceStatus(StrEnum):
    SCHEDULED = "scheduled"
    MOVED = "moved"
    CANCELLED = "cancelled"


class NoticeKind(StrEnum):
    """One notice kind per routing key ``notice.<kind>`` on the bus."""

    INVITATION = "invitation"
    REMINDER = "reminder"
    FOLLOWUP = "followup"
    UPDATE = "update"
    CANCELLATION = "cancellation"
    OFFER = "offer"  # a freed seat held for the first of the waiting list, with the calendar
    WAITLISTED = "waitlisted"  # "you are on the waiting list, position N" (no calendar)
    BOUNCE = "bounce"  # to a chapter's chat group: a member's address bounced for good
    MESSAGE = "message"  # staff's words to those invited to a session ("room changed to 3F")
    NUDGE = "nudge"  # staff remind a member who has not answered the invitation
    ALERT = "alert"  # to a chapter's chat group: a seat given up at a full session, notices failed
    DIGEST = "digest"  # to staff and chat groups, monthly: last month's figures, next month's sessions


class NoticeStatus(StrEnum):
    """``pending → published → sending → sent``, or one of the end states."""

    PENDING = "pending"
    PUBLISHED = "published"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"
    BOUNCED = "bounced"  # sent, then refused by the member's mail server (a bounce came back)


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class RobotFormat(StrEnum):
    """The chat platforms a chapter's group robot may be on."""

    WECOM = "wecom"  # 企业微信
    DINGTALK = "dingtalk"  # 钉钉
    FEISHU = "feishu"  # 飞书
    GENERIC = "generic"  # any HTTPS endpoint taking signed JSON
