"""The MIME a worker writes, read back as a mail client reads it (``email.policy.default``)."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime

from workers.mail import build_email

CALENDAR = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nX-NOTE:\xe4\xbc\x9a\r\nEND:VCALENDAR\r\n"
PNG = bytes(range(256)) * 3
LONG = "and a long English subject line " * 4
#: Lines that may pass 78 characters (RFC 5322's SHOULD; 998 is the limit): a URL cannot be folded,
#: and the generator writes a multipart's boundary parameter on its Content-Type line (84 at most).
UNFOLDED = (b"List-Unsubscribe:", b"Content-Type: multipart/")
SUBJECT = "【邀请】宁波 · 数字化制衣与柔性供应链技术交流会（第三期）· 12月3日 周四 14:00 · 请回复是否参加"


def build(**changes: object) -> bytes:
    given: dict[str, object] = dict(
        notice_id="8f1c0c8e-0000-4000-8000-000000000001",
        sender="浙江省服装行业协会 <noreply@assoc.example>",
        to_name="陈静",
        to_email="chen@lihua.example",
        reply_to="宁波秘书处 <ningbo@assoc.example>",
        subject=SUBJECT,
        text="陈静，您好：\n\n诚邀您参加。\nline two",
        html="<p>陈静，您好：</p>\n<p>诚邀</p>",
        sent_at=datetime(2026, 12, 3, 6, 0, tzinfo=UTC),
        calendar=CALENDAR,
        method="REQUEST",
        list_id=("宁波 · 数字化制衣技术交流会", "23f32c98"),
        unsubscribe=["https://x.example/unsubscribe/" + "t" * 180, "mailto:u@assoc.example?subject=u"],
        return_path="bounce+1@assoc.example",
        images=[("checkin-code", PNG)],
        files=[("2026年11月 报告.xlsx", "application/vnd.ms-excel", b"PK\x03\x04 sheet")],
    )
    given.update(changes)
    return build_email(**given).as_bytes()  # type: ignore[arg-type]


def test_headers_read_back_as_given_and_stay_within_line_limits() -> None:
    raw = build()
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["Subject"] == SUBJECT
    assert mail["From"].addresses[0].display_name == "浙江省服装行业协会"
    assert mail["To"].addresses[0].display_name == "陈静"
    assert mail["To"].addresses[0].addr_spec == "chen@lihua.example"
    assert mail["Reply-To"].addresses[0].addr_spec == "ningbo@assoc.example"
    assert mail["List-Id"] == "宁波 · 数字化制衣技术交流会 <23f32c98.lists.assoc.example>"
    assert mail["List-Unsubscribe"].startswith("<https://x.example/unsubscribe/ttt")
    assert mail["List-Unsubscribe"].endswith(", <mailto:u@assoc.example?subject=u>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Message-ID"] == "<8f1c0c8e-0000-4000-8000-000000000001@assoc.example>"
    assert mail["Date"].datetime == datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    assert mail["Return-Path"] == "<bounce+1@assoc.example>"
    assert mail["MIME-Version"] == "1.0"
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\n" not in head.replace(b"\r\n", b"")  # CRLF only
    assert head.isascii()  # non-ASCII only as encoded words
    for line in head.split(b"\r\n"):
        assert len(line) <= 78 or line.startswith(UNFOLDED), line
    for word in re.findall(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=", head):
        assert len(word) <= 75  # RFC 2047 §2


def test_parts_are_where_calendar_apps_look_and_bodies_read_back_in_canonical_form() -> None:
    mail = email.message_from_bytes(build(), policy=email.policy.default)
    assert [part.get_content_type() for part in mail.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "text/calendar",
        "application/ics",
        "application/vnd.ms-excel",
    ]
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert parts["text/plain"].get_content() == "陈静，您好：\r\n\r\n诚邀您参加。\r\nline two\r\n"
    assert parts["text/html"].get_content() == "<p>陈静，您好：</p>\r\n<p>诚邀</p>\r\n"
    calendar = parts["text/calendar"]
    assert calendar.get_param("method") == "REQUEST" and calendar.get_param("charset") == "UTF-8"
    assert calendar.get_content_disposition() is None  # inline, as Outlook and Gmail expect
    assert calendar.get_payload(decode=True) == CALENDAR
    assert parts["application/ics"].get_filename() == "invite.ics"
    assert parts["application/ics"].get_payload(decode=True) == CALENDAR
    image = parts["image/png"]
    assert image["Content-ID"] == "<checkin-code>" and image.get_content_disposition() == "inline"
    assert image.get_payload(decode=True) == PNG
    sheet = parts["application/vnd.ms-excel"]
    assert sheet.get_filename() == "2026年11月 报告.xlsx" and sheet.get_content_disposition() == "attachment"
    assert sheet.get_payload(decode=True) == b"PK\x03\x04 sheet"
    for part in mail.walk():
        if not part.is_multipart():
            assert part["Content-Transfer-Encoding"] == "base64"


def test_a_plain_email_is_text_and_html_alone_and_tricks_stay_in_their_header() -> None:
    raw = build(
        calendar=None,
        method=None,
        images=[],
        files=[],
        list_id=None,
        unsubscribe=[],
        return_path="",
        reply_to=None,
        subject="Hello\r\nBcc: everyone@x.example " + LONG,
        to_name="Chen\nJing",
        sender="exsched <noreply@assoc.example>",
    )
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert [part.get_content_type() for part in mail.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    assert mail["Subject"] == "Hello Bcc: everyone@x.example " + LONG.strip()
    assert mail["Bcc"] is None
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 or line.startswith(UNFOLDED) for line in head.split(b"\r\n")), head
    assert str(mail["To"]) == "Chen Jing <chen@lihua.example>"
    assert mail["From"] == "exsched <noreply@assoc.example>"
    for absent in ("Reply-To", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Return-Path"):
        assert mail[absent] is None
