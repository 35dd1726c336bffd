"""Sample data for ``exsched demo``: realistic bilingual series in every chapter, some members.

Seeding goes through the same service functions as the API, so the demo shows real behaviour
(holiday shifts, provisional years, chapter feeds). It is idempotent: a database that already
has series is left as it is, and only a fresh demo key is made.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.db.models import ApiKeyRow, MemberRow, SeriesRow, StaffRow
from scheduler.domain.auth import Principal, create_api_key
from scheduler.domain.members import create_member, subscribe
from scheduler.domain.reports import OFFICE
from scheduler.domain.series import create_series
from scheduler.domain.staff import create_staff, set_email, set_password
from scheduler.notices import digests
from scheduler.notices.planner import request_plan
from scheduler.ops.config import Settings
from schemas.api import MemberCreate, SeriesCreate, SubscriptionCreate
from schemas.names import Role

ADMIN = Principal(role=Role.ADMIN)


@dataclass(frozen=True)
class SeedReport:
    series: int
    members: int
    admin_key: str
    console_password: str  # of the demo accounts "admin" (province) and "ningbo" (chapter staff)
    example_series: str
    showcase_start: datetime  # UTC
    showcase_reminder: datetime
    showcase_followup: datetime


# (chapter, kind, title, rule, local time, hours, skip_holidays, venue, description)
SERIES = [
    (
        "ningbo",
        "tech-exchange",
        "宁波 · 数字化制衣技术交流会",
        "FREQ=MONTHLY;BYDAY=2TH",
        time(14, 0),
        2,
        "cn-statutory-shift",
        "宁波国际会展中心 3号会议室",
        "每月第二个周四：智能裁剪、MES 与柔性产线经验分享。Monthly exchange on digital garment making.",
    ),
    (
        "yiwu",
        "project-docking",
        "义乌 · 衬衫产业项目对接会",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
        time(9, 30),
        3,
        "cn-statutory-shift",
        "义乌国际商贸城 B区 会议中心",
        "双周二上午：衬衫面辅料供需、外贸订单与代工产能对接。Fortnightly shirt-industry docking.",
    ),
    (
        "jiaxing",
        "tech-exchange",
        "嘉兴 · 面料创新季度交流会",
        "FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=1",
        time(14, 0),
        3,
        "cn-statutory-shift",
        "嘉兴秀洲 纺织科技园报告厅",
        "每季度首日（遇法定节假日顺延至下一工作日）：新型面料与绿色印染。Quarterly fabric innovation.",
    ),
    (
        "wenzhou",
        "project-docking",
        "温州 · 服装鞋服产业链对接会",
        "FREQ=MONTHLY;BYDAY=-1FR",
        time(14, 30),
        2,
        "cn-statutory",
        "温州瓯海 时尚智造小镇",
        "每月最后一个周五：品牌、面料与加工厂对接。Monthly supply-chain docking, last Friday.",
    ),
    (
        "shaoxing",
        "tech-exchange",
        "绍兴 · 印染工艺技术交流会",
        "FREQ=MONTHLY;BYDAY=3WE",
        time(9, 0),
        2,
        "cn-statutory",
        "绍兴柯桥 中国轻纺城 会议室",
        "每月第三个周三：数码印花、节能减排。Printing and dyeing tech exchange.",
    ),
    (
        "huzhou",
        "project-docking",
        "湖州 · 童装产业项目对接会",
        "FREQ=MONTHLY;BYMONTHDAY=15",
        time(10, 0),
        2,
        "cn-statutory-shift",
        "湖州织里 童装商会",
        "每月15日：童装设计、面料与电商渠道对接。Children's wear docking on the 15th.",
    ),
    (
        "taizhou",
        "project-docking",
        "台州 · 缝制设备与服装企业对接会",
        "FREQ=WEEKLY;BYDAY=WE;COUNT=8",
        time(15, 0),
        2,
        "none",
        "台州椒江 缝制设备产业园",
        "连续八周：缝制设备厂商与服装企业的项目对接。Eight weekly sessions: equipment makers meet firms.",
    ),
    (
        "province",
        "tech-exchange",
        "浙江省服装行业年度技术交流大会",
        "FREQ=YEARLY;BYMONTH=3;BYDAY=3TH",
        time(9, 0),
        6,
        "cn-statutory-shift",
        "杭州 浙江省服装行业协会 大会堂",
        "一年一度：全省服装行业技术趋势与优秀案例。Annual provincial tech-exchange congress.",
    ),
]

MEMBERS = [
    ("陈静", "chen.jing@lihua-garment.example", "丽华服饰有限公司", "ningbo", "zh-CN", "Asia/Shanghai"),
    ("王磊", "wang.lei@yiwu-shirts.example", "义乌恒达衬衫厂", "yiwu", "zh-CN", "Asia/Shanghai"),
    ("Anna Rossi", "anna.rossi@tessuti-como.example", "Tessuti Como S.r.l.", "jiaxing", "en", "Europe/Rome"),
    ("李娜", "li.na@oujia-fashion.example", "瓯嘉时装", "wenzhou", "zh-CN", "Asia/Shanghai"),
    ("赵强", "zhao.qiang@keqiao-print.example", "柯桥印染科技", "shaoxing", "zh-CN", "Asia/Shanghai"),
]


def first_session(rule: str, at: time, today: date) -> datetime:
    """The first start of ``rule`` at ``at`` from tomorrow on, so seeded series lie ahead."""
    base = datetime.combine(today + timedelta(days=1), at)
    first = rrulestr(f"RRULE:{rule}", dtstart=base).after(base, inc=True)  # type: ignore[union-attr]
    assert first is not None
    return first


def seed(session: Session, settings: Settings, today: date | None = None) -> SeedReport:
    today = today or datetime.now(UTC).date()
    if not session.scalar(select(func.count()).select_from(SeriesRow)):
        _seed_content(session, settings, today)
    for old in session.scalars(
        select(ApiKeyRow).where(ApiKeyRow.name == "demo", ApiKeyRow.revoked_at.is_(None))
    ):
        old.revoked_at = datetime.now(UTC)
    _, secret = create_api_key(session, role=Role.ADMIN, name="demo")
    password = _demo_staff(session)
    session.flush()
    _digest_now(session, datetime.now(UTC))
    example = session.scalar(select(SeriesRow.id).where(SeriesRow.chapter == "jiaxing").limit(1))
    start = _showcase(session, settings, datetime.now(UTC))
    return SeedReport(
        series=session.scalar(select(func.count()).select_from(SeriesRow)) or 0,
        members=session.scalar(select(func.count()).select_from(MemberRow)) or 0,
        admin_key=secret,
        console_password=password,
        example_series=str(example),
        showcase_start=start,
        showcase_reminder=start - SHOWCASE_REMINDER,
        showcase_followup=start + SHOWCASE_LENGTH + SHOWCASE_FOLLOWUP,
    )


DEMO_STAFF = (
    ("admin", Role.ADMIN, None, "省协会 秘书处", "office@zj-garment.example"),
    ("ningbo", Role.CHAPTER, "ningbo", "宁波分会 秘书处", "ningbo@zj-garment.example"),
)


def _demo_staff(session: Session) -> str:
    """Console accounts for the demo, with a new random password at every run (printed once)."""
    password = secrets.token_urlsafe(9)
    for username, role, chapter, name, address in DEMO_STAFF:
        row = session.scalar(select(StaffRow).where(StaffRow.username == username))
        if row is None:
            row = create_staff(
                session, username=username, password=password, role=role, chapter=chapter, display_name=name
            )
            set_email(row, address)  # (the monthly digest goes there: into the outbox)
        else:
            set_password(session, row, password)
    return password


def _digest_now(session: Session, now: datetime) -> None:
    """Last month's digest to the demo staff now, not on the first working day, so the outbox
    shows one (once per month and database: it is the same notice when the demo runs again)."""
    local = now.astimezone(OFFICE)
    digests.plan_month(session, digests.previous_label(local.year, local.month), now, now)


SHOWCASE_LEAD = timedelta(seconds=30)
SHOWCASE_LENGTH = timedelta(seconds=10)
SHOWCASE_REMINDER = timedelta(seconds=15)
SHOWCASE_FOLLOWUP = timedelta(seconds=5)


def _showcase(session: Session, settings: Settings, now: datetime) -> datetime:
    """A Ningbo session half a minute away, with its clock compressed to seconds: the invitation
    goes out at once, the reminder 15 seconds later, the follow-up 45 seconds later — so a
    newcomer sees every kind of email in ``var/outbox`` within a minute."""
    start = (now + SHOWCASE_LEAD).replace(microsecond=0)
    local = start.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    body = SeriesCreate.model_validate(
        {
            "kind": "tech-exchange",
            "title": f"演示 · 宁波快速体验交流会（{local:%H:%M:%S}）",
            "description": "演示用：时间压缩到秒，一分钟内依次收到邀请、提醒和会后邮件。"
            "Demo session with its clock in seconds.",
            "chapter": "ningbo",
            "venue": "宁波国际会展中心 演示厅",
            "timezone": "Asia/Shanghai",
            "dtstart": local,
            "duration": SHOWCASE_LENGTH,
            "organizer_name": "宁波 秘书处",
            "organizer_email": "ningbo@zj-garment-assoc.example",
            "notices": {
                "invite_before": "P1D",
                "reminders": [f"PT{int(SHOWCASE_REMINDER.total_seconds())}S"],
                "followup_after": f"PT{int(SHOWCASE_FOLLOWUP.total_seconds())}S",
            },
        }
    )
    row = create_series(session, body, ADMIN, settings.public_url)
    request_plan(session, series_ids=[row.id], now=now)
    return start


def _seed_content(session: Session, settings: Settings, today: date) -> None:
    created = {}
    for chapter, kind, title, rule, at, hours, skip, venue, description in SERIES:
        body = SeriesCreate.model_validate(
            {
                "kind": kind,
                "title": title,
                "description": description,
                "chapter": chapter,
                "venue": venue,
                "timezone": "Asia/Shanghai",
                "dtstart": first_session(rule, at, today),
                "duration": timedelta(hours=hours),
                "rrule": rule,
                "skip_holidays": skip,
                "capacity": 80,
                "organizer_name": f"{title.split(' · ')[0]} 秘书处",
                "organizer_email": f"{chapter}@zj-garment-assoc.example",
            }
        )
        created[chapter] = create_series(session, body, ADMIN, settings.public_url)
    for name, email, company, chapter, locale, tz in MEMBERS:
        fields = {"name": name, "email": email, "company": company, "chapter": chapter, "locale": locale}
        member = create_member(session, MemberCreate.model_validate(fields | {"timezone": tz}), ADMIN)
        subscribe(session, member, SubscriptionCreate.model_validate({"chapter": chapter}), ADMIN)
        if chapter == "jiaxing":
            subscribe(session, member, SubscriptionCreate.model_validate({"kind": "tech-exchange"}), ADMIN)
        if chapter == "wenzhou":
            subscribe(session, member, SubscriptionCreate(series_id=created["province"].id), ADMIN)
