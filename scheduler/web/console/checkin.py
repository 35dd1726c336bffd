"""Check-in at the door, on a phone: read a member's code with the phone's camera (the page's
script takes a photo, makes it small and sends it; the server reads the QR code in it), or find
the person by name or company (a plain form: no camera, no script), or add someone who walked
in. Each answer says who it is and whether they held a seat; a second check-in says when the
first was."""

from __future__ import annotations

import io
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import structlog
import zxingcpp
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from PIL import Image, UnidentifiedImageError
from pydantic import ValidationError
from sqlalchemy import func, select
from starlette.datastructures import UploadFile

from scheduler.db.models import MemberRow, SeriesRow
from scheduler.domain import checkin, seats
from scheduler.domain.errors import ExschedError
from scheduler.domain.members import create_member
from scheduler.domain.recurrence import Occurrence
from scheduler.domain.seats import place_of
from scheduler.notices.audience import attendees
from scheduler.ops.clock import utcnow
from scheduler.web.console.forms import validation_messages
from scheduler.web.console.page import Page, PageDep, PostDep
from scheduler.web.console.sessions import occurrence_of, series_row
from schemas.api import MemberCreate

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console/series", include_in_schema=False)
PATH = "/{series_id}/occurrences/{stamp}/checkin"
#: A photo of a code, as the page's script sends it (made small first), is far below this.
MAX_PHOTO = 900 * 1024
MAX_FOUND = 30


def read_qr(data: bytes) -> str | None:
    """The text of the first QR code in a photo; None if there is none, or it is no image."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    found = zxingcpp.read_barcodes(
        image.convert("L"), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return found[0].text if found else None


def _render(
    page: Page, row: SeriesRow, occ: Occurrence, stamp: str, *, q: str = "",
    result: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    zone = ZoneInfo(row.timezone)
    now = utcnow()
    found: list[dict[str, Any]] = []
    if q:
        standing = seats.standings(page.session, occ.uid, now)
        words = q.casefold()
        for invited in attendees(page.session, row, occ.uid):
            member = invited.member
            if words in member.name.casefold() or words in member.company.casefold():
                answer = invited.answer
                found.append(
                    {
                        "id": str(member.id),
                        "name": member.name,
                        "company": member.company,
                        "seat": _seat_words(page, standing.get(member.id)),
                        "at": page.t.clock(answer.checked_in_at.astimezone(zone))
                        if answer and answer.checked_in_at
                        else "",
                    }
                )
    return page.render(
        "checkin.html.j2",
        status=status,
        row=row,
        occ=occ,
        stamp=stamp,
        start=occ.start.astimezone(zone),
        count=seats.seats(page.session, place_of(row, occ), now),
        came=checkin.checked_in_count(page.session, occ.uid),
        q=q,
        found=found[:MAX_FOUND],
        more=len(found) > MAX_FOUND,
        result=result,
        errors=errors or {},
        values=values or {"name": "", "company": "", "email": ""},
    )


def _seat_words(page: Page, standing: seats.Standing | None) -> str:
    if standing is None:
        return page.t("checkin.seat.none")
    if standing.response == "accepted":
        return page.t("checkin.seat.holds")
    if standing.offer_until is not None:
        return page.t("checkin.seat.offered")
    if standing.position is not None:
        return page.t("checkin.seat.waiting", position=standing.position)
    return page.t("checkin.seat.none")


@router.get(PATH, response_class=HTMLResponse)
def checkin_page(series_id: uuid.UUID, stamp: str, page: PageDep, q: str = "") -> Response:
    row = series_row(page, series_id)
    return _render(page, row, occurrence_of(page, row, stamp), stamp, q=q.strip()[:100])


@router.post(PATH, response_class=HTMLResponse)
async def check_in(series_id: uuid.UUID, stamp: str, page: PostDep) -> Response:
    row = series_row(page, series_id)
    occ = occurrence_of(page, row, stamp)
    action = str(page.form.get("action") or "")
    if action == "walkin":
        return _walk_in(page, row, occ, stamp)
    member: MemberRow | None = None
    if action == "member":
        try:
            member = page.session.get(MemberRow, uuid.UUID(str(page.form.get("member") or "")))
        except ValueError:
            member = None
        if member is None or not any(a.member.id == member.id for a in attendees(page.session, row, occ.uid)):
            return _render(page, row, occ, stamp, result={"error": page.t("checkin.not_invited")}, status=404)
    else:
        found = await _code_of(page)
        if isinstance(found, str):
            return _render(page, row, occ, stamp, result={"error": found}, status=422)
        member_id, uid = found
        if uid != occ.uid:
            return _render(
                page, row, occ, stamp, result={"error": page.t("checkin.other_session")}, status=409
            )
        member = page.session.get(MemberRow, member_id)
        if member is None:
            return _render(page, row, occ, stamp, result={"error": page.t("checkin.unknown")}, status=404)
    return _record(page, row, occ, stamp, member)


async def _code_of(page: Page) -> tuple[uuid.UUID, str] | str:
    """The member and session of the code sent (a photo of it, or its text); else why not."""
    settings = page.request.app.state.settings
    photo, text = page.form.get("photo"), str(page.form.get("code") or "")
    if isinstance(photo, UploadFile):
        data = await photo.read(MAX_PHOTO + 1)
        if len(data) > MAX_PHOTO:
            return page.t("checkin.photo_too_large")
        text = read_qr(data) or ""
        if not text:
            return page.t("checkin.no_code")
    found = checkin.read_code(settings.secret_key, checkin.token_of(text)) if text else None
    return found if found is not None else page.t("checkin.bad_code")


def _record(page: Page, row: SeriesRow, occ: Occurrence, stamp: str, member: MemberRow) -> Response:
    done = checkin.check_in(page.session, place_of(row, occ), member, utcnow(), page.staff.username)
    page.session.commit()
    log.info(
        "checked_in",
        occurrence_uid=occ.uid,
        member_id=str(member.id),
        again=done.again,
        by=page.staff.username,
    )
    at = page.t.clock(done.at.astimezone(ZoneInfo(row.timezone)))
    result = {
        "name": member.name,
        "company": member.company,
        "again": done.again,
        "at": at,
        "seat": _seat_words(page, done.before),
        "held": done.before.response == "accepted" or done.before.offer_until is not None,
    }
    return _render(page, row, occ, stamp, result=result)


def _walk_in(page: Page, row: SeriesRow, occ: Occurrence, stamp: str) -> Response:
    """Someone who came unannounced: found by their address, or added as a member of the chapter."""
    values = {k: str(page.form.get(k) or "").strip() for k in ("name", "company", "email")}
    known = page.session.scalar(
        select(MemberRow).where(func.lower(MemberRow.email) == values["email"].lower())
    )
    if known is None:
        try:
            data = MemberCreate(chapter=row.chapter, **values)  # type: ignore[arg-type]
            known = create_member(page.session, data, page.principal)
        except ValidationError as exc:
            fields = {"name": "name", "company": "company", "email": "email"}
            errors = validation_messages(page.t, exc, fields)
            return _render(page, row, occ, stamp, errors=errors, values=values, status=422)
        except ExschedError as exc:
            errors = {"email": page.t("err.invalid", reason=exc.message)}
            return _render(page, row, occ, stamp, errors=errors, values=values, status=422)
    return _record(page, row, occ, stamp, known)
