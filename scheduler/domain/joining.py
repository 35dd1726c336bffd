"""Joining a chapter without staff typing anything: a request, a confirmation by mail (double
opt-in), and, where the chapter wants it, its staff's approval.

Nothing is stored before the address is confirmed: the confirmation link carries the request,
signed (``join``, 48 hours, once). Pressing its button makes the person a member following
their chapter, or, in a chapter with ``join_approval``, a :class:`JoinRequestRow` that the
chapter's staff approve (the member is made then) or reject (the request is dropped).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.db.models import ChapterRow, JoinRequestRow, MemberRow
from scheduler.domain import members as people
from scheduler.domain.auth import Principal
from scheduler.domain.errors import NotFound
from scheduler.domain.tokens import sign
from schemas.api import JoinForm, MemberCreate, SubscriptionCreate
from schemas.names import Chapter, Role

CONFIRM_VALID = timedelta(hours=48)
#: Who makes the member when a person confirms their own request (logged as such).
SELF = Principal(Role.ADMIN, key_id="self-service-join")


def confirmation_token(secret: str, form: JoinForm, now: datetime) -> str:
    claims = {
        "n": form.name,
        "c": form.company,
        "a": form.email,
        "h": form.chapter.value,
        "l": form.locale.value,
        "o": 1,
    }
    return sign(secret, "join", claims, now + CONFIRM_VALID)


def form_of(claims: dict[str, Any]) -> JoinForm:
    """The request a confirmation link carries (checked again: it was checked when signed)."""
    return JoinForm(
        name=claims["n"], company=claims["c"], email=claims["a"], chapter=claims["h"], locale=claims["l"]
    )


def needs_approval(session: Session, chapter: str) -> bool:
    row = session.get(ChapterRow, chapter)
    return bool(row and row.join_approval)


def member_with(session: Session, email: str) -> MemberRow | None:
    return session.scalar(select(MemberRow).where(MemberRow.email == email))


def admit(session: Session, form: JoinForm, principal: Principal = SELF) -> MemberRow:
    """Make the member, following their chapter's sessions, in their language."""
    member = people.create_member(
        session,
        MemberCreate(
            name=form.name, email=form.email, company=form.company, chapter=form.chapter, locale=form.locale
        ),
        principal,
    )
    people.subscribe(session, member, SubscriptionCreate(chapter=form.chapter), principal)
    return member


def ask_approval(session: Session, form: JoinForm) -> JoinRequestRow:
    """Keep the confirmed request for the chapter's staff (a second one for the address: the first)."""
    existing = session.scalar(select(JoinRequestRow).where(JoinRequestRow.email == form.email))
    if existing is not None:
        return existing
    row = JoinRequestRow(
        id=uuid.uuid4(),
        email=form.email,
        name=form.name,
        company=form.company,
        chapter=form.chapter.value,
        locale=form.locale.value,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same request confirmed twice at once
        session.rollback()
        found = session.scalar(select(JoinRequestRow).where(JoinRequestRow.email == form.email))
        assert found is not None
        return found
    return row


def waiting(session: Session, principal: Principal) -> Sequence[JoinRequestRow]:
    query = select(JoinRequestRow).order_by(JoinRequestRow.created_at)
    if principal.chapter is not None:
        query = query.where(JoinRequestRow.chapter == principal.chapter.value)
    return session.scalars(query).all()


def get_request(session: Session, request_id: uuid.UUID, principal: Principal) -> JoinRequestRow:
    row = session.get(JoinRequestRow, request_id)
    if row is None:
        raise NotFound(f"no join request {request_id}")
    principal.require_chapter(row.chapter, "join requests")
    return row


def approve(session: Session, row: JoinRequestRow, principal: Principal) -> MemberRow:
    form = JoinForm(
        name=row.name, company=row.company, email=row.email, chapter=row.chapter, locale=row.locale
    )
    session.delete(row)
    session.flush()
    return admit(session, form, principal)


def reject(session: Session, row: JoinRequestRow) -> None:
    session.delete(row)
    session.flush()


def set_approval(session: Session, chapter: Chapter, on: bool, principal: Principal) -> None:
    principal.require_chapter(chapter.value, "the joining rule")
    row = session.get(ChapterRow, chapter.value)
    assert row is not None
    row.join_approval = on
    session.flush()
