"""Many members at once, from the members list: subscribe the ticked members to a series, a
chapter or a kind; end that subscription; or (the province office) move them to another
chapter. Every ticked member must be one the staff may change, or nothing changes; the page
then says how many changed and how many were so already. Planning follows at once, as for one
member: a new subscription brings its invitations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from scheduler.db.models import MemberRow, SeriesRow, SubscriptionRow
from scheduler.domain import members as people
from scheduler.web.console.forms import Target, parse_target
from scheduler.web.console.page import ConsoleError, Page
from schemas.api import MemberUpdate, SubscriptionCreate

#: As many as the members list shows at once.
MOST = 500
ACTIONS = ("subscribe", "unsubscribe", "move")


@dataclass(frozen=True)
class Outcome:
    action: str
    changed: int
    already: int  # subscribed already, had no such subscription, or in that chapter already
    what: str  # the target or chapter, in words


def _ticked(page: Page) -> list[MemberRow]:
    try:
        ids = {uuid.UUID(str(value)) for value in page.form.getlist("member")}
    except ValueError as exc:
        raise ConsoleError(422, page.t("err.choice")) from exc
    if not ids:
        raise ConsoleError(422, page.t("members.bulk.none_ticked"))
    if len(ids) > MOST:
        raise ConsoleError(422, page.t("members.bulk.too_many", most=MOST))
    rows = list(page.session.scalars(select(MemberRow).where(MemberRow.id.in_(ids)).order_by(MemberRow.name)))
    if len(rows) != len(ids):
        raise ConsoleError(404, page.t("error.not_found"))
    for row in rows:
        page.require_chapter(row.chapter)
    return rows


def _key(target: Target) -> tuple[str, str]:
    if target.series_id is not None:
        return "series", str(target.series_id)
    if target.chapter is not None:
        return "chapter", target.chapter.value
    assert target.kind is not None
    return "kind", target.kind.value


def _target_words(page: Page, target: Target) -> str:
    kind, value = _key(target)
    if kind == "series":
        title = page.session.scalar(select(SeriesRow.title).where(SeriesRow.id == target.series_id))
        return page.t("members.sub.series", name=title or value)
    if kind == "chapter":
        return page.t("members.sub.chapter", name=page.t.chapter(value))
    return page.t("members.sub.kind", name=page.t.kind(value))


def apply(page: Page, offered: set[uuid.UUID]) -> Outcome:
    """Do the form's action to the ticked members (``offered``: the series this page may give)."""
    action = str(page.form.get("action") or "")
    if action not in ACTIONS:
        raise ConsoleError(422, page.t("err.choice"))
    rows = _ticked(page)
    if action == "move":
        return _move(page, rows, str(page.form.get("chapter") or ""))
    target = parse_target(str(page.form.get("target") or ""))
    if target is None or (target.series_id is not None and target.series_id not in offered):
        raise ConsoleError(422, page.t("err.choice"))
    key = _key(target)
    held = {
        sub.member_id: sub
        for sub in page.session.scalars(
            select(SubscriptionRow).where(
                SubscriptionRow.member_id.in_([r.id for r in rows]),
                SubscriptionRow.target_type == key[0],
                SubscriptionRow.target == key[1],
            )
        )
    }
    changed: list[uuid.UUID] = []
    for row in rows:
        if action == "subscribe" and row.id not in held:
            people.subscribe(page.session, row, SubscriptionCreate(**target.body()), page.principal)
            changed.append(row.id)
        elif action == "unsubscribe" and row.id in held:
            people.unsubscribe(page.session, row, held[row.id].id)
            changed.append(row.id)
    page.commit_and_replan(member_ids=changed)
    return Outcome(action, len(changed), len(rows) - len(changed), _target_words(page, target))


def _move(page: Page, rows: list[MemberRow], chapter: str) -> Outcome:
    if not page.is_admin:
        raise ConsoleError(403, page.t("members.bulk.move_admin_only"))
    if chapter not in page.chapters:
        raise ConsoleError(422, page.t("err.choice"))
    changed = [row for row in rows if row.chapter != chapter]
    for row in changed:
        people.update_member(page.session, row, MemberUpdate(chapter=chapter), page.principal)
    page.commit_and_replan(member_ids=[row.id for row in changed])
    return Outcome("move", len(changed), len(rows) - len(changed), page.t.chapter_org(chapter))


def report(page: Page, outcome: Outcome) -> str:
    """What the action did, in a sentence for the page."""
    return page.t(
        f"members.bulk.done.{outcome.action}",
        changed=outcome.changed,
        already=outcome.already,
        what=outcome.what,
    )
