"""Members pages: list and add, one member's subscriptions, CSV import and export."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, or_, select
from starlette.datastructures import UploadFile

from scheduler.db.models import MemberRow, SeriesRow, SubscriptionRow
from scheduler.domain import members as people
from scheduler.domain.errors import Conflict, ExschedError
from scheduler.ops.clock import utcnow
from scheduler.web.console import member_bulk, member_import
from scheduler.web.console.forms import MEMBER_FIELDS, Target, parse_target, read_member
from scheduler.web.console.page import ConsoleError, Page, PageDep, PostDep
from scheduler.web.console.sessions import holidays_of
from schemas.api import MemberUpdate, SubscriptionCreate
from schemas.names import Chapter, Kind, SeriesStatus

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/console/members", include_in_schema=False)
LIST_LIMIT = 500


def _list_page(
    page: Page, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
    import_error: str | None = None, status: int = 200, bulk_done: str | None = None,
) -> Response:  # fmt: skip
    chapter = page.request.query_params.get("chapter", "")
    q = page.request.query_params.get("q", "").strip()
    chapters = page.chapters
    query = select(MemberRow).where(MemberRow.chapter.in_([chapter] if chapter in chapters else chapters))
    if q:
        like = f"%{q}%"
        query = query.where(
            or_(MemberRow.name.ilike(like), MemberRow.email.ilike(like), MemberRow.company.ilike(like))
        )
    members = page.session.scalars(query.order_by(MemberRow.chapter, MemberRow.name).limit(LIST_LIMIT)).all()
    return page.render(
        "members.html.j2",
        status=status,
        members=members,
        chapters=chapters,
        chapter=chapter if chapter in chapters else "",
        q=q,
        errors=errors or {},
        values=values or {"name": "", "email": "", "company": "", "chapter": chapters[0], "locale": "zh-CN",
                          "timezone": "Asia/Shanghai", "channels": True},
        import_error=import_error,
        limit=LIST_LIMIT,
        bulk_done=bulk_done,
        series=page.session.scalars(_offered_series(page).order_by(SeriesRow.chapter, SeriesRow.title)).all(),
        kinds=[k.value for k in Kind],
        all_chapters=[c.value for c in Chapter],
    )  # fmt: skip


@router.get("", response_class=HTMLResponse)
def members_list(page: PageDep) -> Response:
    return _list_page(page)


@router.post("", response_class=HTMLResponse)
def add_member(page: PostDep) -> Response:
    values = _posted_member(page)
    checked = read_member(values, page.t, page.principal)
    if checked.payload is None:
        return _list_page(page, errors=checked.errors, values=values, status=422)
    try:
        row = people.create_member(page.session, checked.payload, page.principal)
    except Conflict:
        return _list_page(page, errors={"email": page.t("err.email_taken")}, values=values, status=422)
    except ExschedError as exc:
        name = exc.field if exc.field in MEMBER_FIELDS else "name"
        return _list_page(
            page, errors={name: page.t("err.invalid", reason=exc.message)}, values=values, status=422
        )
    page.session.commit()
    log.info("member_created", member_id=str(row.id), chapter=row.chapter, by=page.staff.username)
    return page.redirect(f"/console/members/{row.id}", "members.added")


def _posted_member(page: Page) -> dict[str, Any]:
    values: dict[str, Any] = {name: str(page.form.get(name) or "").strip() for name in MEMBER_FIELDS}
    values["channels"] = page.form.get("channels") == "on"
    return values


def _member(page: Page, member_id: uuid.UUID) -> MemberRow:
    row = page.session.get(MemberRow, member_id)
    if row is None:
        raise ConsoleError(404, page.t("error.not_found"))
    page.require_chapter(row.chapter)
    return row


@router.get("/export.csv")
def export(page: PageDep) -> Response:
    chapters = page.chapters
    members = page.session.scalars(
        select(MemberRow).where(MemberRow.chapter.in_(chapters)).order_by(MemberRow.chapter, MemberRow.name)
    ).all()
    subs = page.session.scalars(
        select(SubscriptionRow).join(MemberRow).where(MemberRow.chapter.in_(chapters))
    ).all()
    log.info("members_exported", count=len(members), by=page.staff.username)
    return Response(
        member_import.export_csv(members, subs, page.t, member_import.unique_titles(page.session)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="members.csv"', "Cache-Control": "no-store"},
    )


@router.get("/template.csv")
def template(page: PageDep) -> Response:
    return Response(
        member_import.template(page.t),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="members-template.csv"'},
    )


@router.post("/import", response_class=HTMLResponse)
def import_members(page: PostDep) -> Response:
    """Check the uploaded file and show what importing it would do; with ``confirm`` (the
    preview's button, which sends the file's text back) import it.

    Sync on purpose: checking and storing thousands of rows must not hold the event loop."""
    upload = page.form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        content, problem = member_import.decode(upload.file.read(), page.t)
    else:
        kept = page.form.get("csv_text")
        content, problem = (
            (kept, None) if isinstance(kept, str) and kept else (None, page.t("members.import.no_file"))
        )
    if content is None:
        return _list_page(page, import_error=problem, status=422)
    result = member_import.check_csv(page.session, content, page.t, page.principal)
    if result.file_error:
        return _list_page(page, import_error=result.file_error, status=422)
    only_good = page.form.get("only_good") == "1"
    if page.form.get("confirm") != "1" or (result.errors and not only_good):
        outgoing = member_import.invitations_at_once(page.session, result, holidays_of(page), utcnow())
        status = 422 if result.errors else 200
        return page.render(
            "import_report.html.j2", status=status, result=result, content=content, outgoing=outgoing
        )
    return _import(page, result)


def _import(page: Page, result: member_import.ImportCheck) -> Response:
    touched: list[uuid.UUID] = []
    try:
        for payload, targets in result.new:
            member = people.create_member(page.session, payload, page.principal)
            _subscribe_all(page, member, targets)
            touched.append(member.id)
        for update in result.updates:
            if update.patch:
                people.update_member(
                    page.session, update.member, MemberUpdate(**update.patch), page.principal
                )
            _subscribe_all(page, update.member, update.targets)
            touched.append(update.member.id)
    except ExschedError as exc:  # a member added or changed meanwhile by someone else
        page.session.rollback()
        return _list_page(page, import_error=page.t("err.invalid", reason=exc.message), status=409)
    page.commit_and_replan(member_ids=touched)
    log.info(
        "members_imported",
        created=len(result.new),
        updated=len(result.updates),
        skipped_rows=result.bad_lines,
        by=page.staff.username,
    )
    return page.render(
        "import_report.html.j2",
        result=result,
        content="",
        imported=len(result.new),
        updated=len(result.updates),
    )


def _subscribe_all(page: Page, member: MemberRow, targets: list[Target]) -> None:
    for target in targets:
        people.subscribe(page.session, member, SubscriptionCreate(**target.body()), page.principal)


@router.post("/bulk", response_class=HTMLResponse)
def bulk(page: PostDep) -> Response:
    """The ticked members of the list: subscribe, unsubscribe or move them (member_bulk)."""
    offered = {row.id for row in page.session.scalars(_offered_series(page))}
    outcome = member_bulk.apply(page, offered)
    log.info(
        "members_bulk_changed",
        action=outcome.action,
        changed=outcome.changed,
        unchanged=outcome.already,
        by=page.staff.username,
    )
    return _list_page(page, bulk_done=member_bulk.report(page, outcome))


@router.get("/{member_id}", response_class=HTMLResponse)
def member_detail(member_id: uuid.UUID, page: PageDep) -> Response:
    return _member_page(page, _member(page, member_id))


def _member_values(row: MemberRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "email": row.email,
        "company": row.company,
        "chapter": row.chapter,
        "locale": row.locale,
        "timezone": row.timezone,
        "channels": "email" in (row.channels or []),
    }


def _member_page(
    page: Page, row: MemberRow, error: str | None = None, status: int = 200, *,
    errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    subs = people.subscriptions_of(page.session, row)
    offered = _offered_series(page).order_by(SeriesRow.chapter, SeriesRow.title)
    series = page.session.scalars(offered).all()
    followed = [s.series_id for s in subs if s.series_id is not None]
    titles = (
        {str(i): title for i, title in page.session.execute(
            select(SeriesRow.id, SeriesRow.title).where(SeriesRow.id.in_(followed))
        )}
        if followed
        else {}
    )  # fmt: skip
    _, webcal = people.feed_urls(row.feed_token, page.settings.public_url)
    return page.render(
        "member.html.j2",
        status=status,
        member=row,
        subs=subs,
        titles=titles,
        series=series,
        chapters=[c.value for c in Chapter],
        kinds=[k.value for k in Kind],
        webcal=webcal,
        error=error,
        errors=errors or {},
        values=values or _member_values(row),
        chapters_editable=page.chapters,
    )


def _offered_series(page: Page) -> Select[Any]:
    """Active series a member may be subscribed to here: chapter staff see another chapter's
    series only if it is public anyway."""
    offered = select(SeriesRow).where(SeriesRow.status == SeriesStatus.ACTIVE.value)
    if not page.is_admin:
        offered = offered.where(or_(SeriesRow.chapter == page.staff.chapter, SeriesRow.private.is_(False)))
    return offered


@router.post("/{member_id}", response_class=HTMLResponse)
def edit_member(member_id: uuid.UUID, page: PostDep) -> Response:
    row = _member(page, member_id)
    values = _posted_member(page)
    checked = read_member(values, page.t, page.principal)
    if checked.payload is None:
        return _member_page(page, row, status=422, errors=checked.errors, values=values)
    try:
        people.update_member(page.session, row, MemberUpdate(**checked.payload.model_dump()), page.principal)
    except Conflict:
        page.session.rollback()
        fresh = page.session.get(MemberRow, member_id) or row
        taken = {"email": page.t("err.email_taken")}
        return _member_page(page, fresh, status=422, errors=taken, values=values)
    page.commit_and_replan(member_ids=[row.id])
    log.info("member_updated", member_id=str(row.id), by=page.staff.username)
    return page.redirect(f"/console/members/{row.id}", "members.updated")


@router.post("/{member_id}/delete", response_class=HTMLResponse)
def delete_member(member_id: uuid.UUID, page: PostDep) -> Response:
    """Remove a member with their subscriptions and notices (nothing more is sent to them)."""
    row = _member(page, member_id)
    people.delete_member(page.session, row)
    page.session.commit()
    log.info("member_deleted", member_id=str(member_id), by=page.staff.username)
    return page.redirect("/console/members", "members.deleted")


@router.post("/{member_id}/subscriptions", response_class=HTMLResponse)
def add_subscription(member_id: uuid.UUID, page: PostDep) -> Response:
    row = _member(page, member_id)
    target = parse_target(str(page.form.get("target") or ""))
    if target is None or (
        target.series_id is not None
        and page.session.scalar(_offered_series(page).where(SeriesRow.id == target.series_id)) is None
    ):
        return _member_page(page, row, page.t("err.choice"), 422)
    try:
        people.subscribe(page.session, row, SubscriptionCreate(**target.body()), page.principal)
    except Conflict:
        page.session.rollback()
        return _member_page(
            page, page.session.get(MemberRow, member_id) or row, page.t("members.already"), 409
        )
    except ExschedError:
        page.session.rollback()
        return _member_page(page, page.session.get(MemberRow, member_id) or row, page.t("err.choice"), 422)
    page.commit_and_replan(member_ids=[row.id])
    log.info("member_subscribed", member_id=str(row.id), by=page.staff.username)
    return page.redirect(f"/console/members/{row.id}", "members.subscribed")


@router.post("/{member_id}/subscriptions/{subscription_id}/delete", response_class=HTMLResponse)
def remove_subscription(member_id: uuid.UUID, subscription_id: uuid.UUID, page: PostDep) -> Response:
    row = _member(page, member_id)
    try:
        people.unsubscribe(page.session, row, subscription_id)
    except ExschedError as exc:
        raise ConsoleError(404, page.t("error.not_found")) from exc
    page.commit_and_replan(member_ids=[row.id])
    log.info("member_unsubscribed", member_id=str(row.id), by=page.staff.username)
    return page.redirect(f"/console/members/{row.id}", "members.unsubscribed")
