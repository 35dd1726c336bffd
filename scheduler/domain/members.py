"""Members, their personal feed tokens, and their subscriptions."""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, SeriesRow, SubscriptionRow
from scheduler.domain import deliverability
from scheduler.domain.auth import Principal
from scheduler.domain.errors import Conflict, InvalidInput, NotFound
from scheduler.domain.recurrence import zone_of
from scheduler.domain.series import get_series
from schemas.api import MemberCreate, MemberOut, MemberUpdate, SubscriptionCreate, SubscriptionOut
from schemas.names import Chapter, Kind, SeriesStatus


def new_feed_token() -> str:
    """256 random bits, URL-safe; says nothing about the member it belongs to."""
    return secrets.token_urlsafe(32)


def feed_urls(token: str, public_url: str) -> tuple[str, str]:
    """(``https://…/calendars/<token>.ics``, the same as ``webcal://``)."""
    https = f"{public_url}/calendars/{token}.ics"
    return https, webcal_of(https)


def webcal_of(url: str) -> str:
    """A feed's http(s) address as the ``webcal://`` one that opens a calendar app."""
    return "webcal://" + url.split("://", 1)[1]


def _check_zone(name: str) -> None:
    try:
        zone_of(name)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="timezone") from exc


def _email_free(session: Session, email: str, principal: Principal, but: uuid.UUID | None = None) -> None:
    """Refuse an email another member has; name that member only to a caller who may see them."""
    other = session.execute(select(MemberRow.id, MemberRow.chapter).where(MemberRow.email == email)).first()
    if other is None or other.id == but:
        return
    if principal.may_touch(other.chapter):
        raise Conflict(f"a member with email {email} already exists (id {other.id})", field="email")
    raise Conflict(
        f"a member with email {email} already exists in another chapter; the province office can move them",
        field="email",
    )


def create_member(session: Session, data: MemberCreate, principal: Principal) -> MemberRow:
    principal.require_chapter(data.chapter, "members")
    _check_zone(data.timezone)
    _email_free(session, data.email, principal)
    row = MemberRow(
        id=uuid.uuid4(),
        name=data.name,
        email=data.email,
        company=data.company,
        chapter=data.chapter.value,
        locale=data.locale.value,
        timezone=data.timezone,
        channels=sorted(set(data.channels)),
        feed_token=new_feed_token(),
    )
    session.add(row)
    _flush_or_conflict(session, f"a member with email {data.email} already exists")
    return row


def get_member(session: Session, member_id: uuid.UUID, principal: Principal) -> MemberRow:
    row = session.get(MemberRow, member_id)
    if row is None:
        raise NotFound(f"no member with id {member_id}")
    principal.require_chapter(row.chapter, "members")
    return row


def list_members(
    session: Session, principal: Principal, chapter: Chapter | None = None
) -> Sequence[MemberRow]:
    if chapter is not None:
        principal.require_chapter(chapter, "members")
    elif principal.chapter is not None:
        chapter = principal.chapter
    query = select(MemberRow).order_by(MemberRow.chapter, MemberRow.name, MemberRow.id)
    if chapter is not None:
        query = query.where(MemberRow.chapter == chapter.value)
    return session.scalars(query).all()


def update_member(session: Session, row: MemberRow, patch: MemberUpdate, principal: Principal) -> MemberRow:
    changes = patch.model_dump(exclude_unset=True)
    if "chapter" in changes:
        principal.require_chapter(changes["chapter"], "members")
    if "timezone" in changes:
        _check_zone(changes["timezone"])
    if "email" in changes:
        _email_free(session, changes["email"], principal, but=row.id)
        if changes["email"].lower() != row.email.lower():
            deliverability.clear(row)  # a new address: write to it again
    for name, value in changes.items():
        setattr(row, name, value.value if hasattr(value, "value") else value)
    _flush_or_conflict(session, "the change conflicts with another member")
    return row


def delete_member(session: Session, row: MemberRow) -> None:
    session.delete(row)
    session.flush()


def member_out(row: MemberRow, public_url: str) -> MemberOut:
    feed, webcal = feed_urls(row.feed_token, public_url)
    return MemberOut(
        id=row.id,
        name=row.name,
        email=row.email,
        company=row.company,
        chapter=row.chapter,  # type: ignore[arg-type]
        locale=row.locale,  # type: ignore[arg-type]
        timezone=row.timezone,
        channels=list(row.channels or []),
        feed_url=feed,
        webcal_url=webcal,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def subscribe(
    session: Session, member: MemberRow, data: SubscriptionCreate, principal: Principal
) -> SubscriptionRow:
    """Subscribe ``member`` to a series ``principal`` may read, a chapter, or a kind."""
    if data.series_id is not None:
        series = get_series(session, data.series_id, principal)
        if series.status == SeriesStatus.CANCELLED.value:
            raise Conflict(f"series {series.id} is cancelled", field="series_id")
        target_type, target = "series", str(series.id)
    elif data.chapter is not None:
        target_type, target = "chapter", data.chapter.value
    else:
        assert data.kind is not None
        target_type, target = "kind", data.kind.value
    return _add_subscription(session, member, target_type, target, data.series_id)


def subscribe_self(session: Session, member: MemberRow, target_type: str, target: str) -> SubscriptionRow:
    """A member subscribing on their own page: to a public active series, a chapter or a kind
    (a private series is for its chapter's staff to give)."""
    series_id: uuid.UUID | None = None
    if target_type == "series":
        try:
            series_id = uuid.UUID(target)
        except ValueError:
            series_id = None
        series = session.get(SeriesRow, series_id) if series_id else None
        if series is None or series.private or series.status != SeriesStatus.ACTIVE.value:
            raise NotFound(f"no public series {target}", field="series_id")
        target = str(series.id)
    elif target_type == "chapter":
        if target not in {c.value for c in Chapter}:
            raise InvalidInput(f"no chapter {target!r}", field="chapter")
    elif target_type == "kind":
        if target not in {k.value for k in Kind}:
            raise InvalidInput(f"no kind {target!r}", field="kind")
    else:
        raise InvalidInput(f"cannot subscribe to {target_type!r}", field="target_type")
    return _add_subscription(session, member, target_type, target, series_id)


def _add_subscription(
    session: Session, member: MemberRow, target_type: str, target: str, series_id: uuid.UUID | None
) -> SubscriptionRow:
    existing = session.scalar(
        select(SubscriptionRow).where(
            SubscriptionRow.member_id == member.id,
            SubscriptionRow.target_type == target_type,
            SubscriptionRow.target == target,
        )
    )
    if existing is not None:
        raise Conflict(f"member is already subscribed to {target_type} {target} (subscription {existing.id})")
    row = SubscriptionRow(
        id=uuid.uuid4(),
        member_id=member.id,
        target_type=target_type,
        target=target,
        series_id=series_id,
    )
    session.add(row)
    _flush_or_conflict(session, f"member is already subscribed to {target_type} {target}")
    return row


def subscriptions_of(session: Session, member: MemberRow) -> Sequence[SubscriptionRow]:
    query = select(SubscriptionRow).where(SubscriptionRow.member_id == member.id)
    return session.scalars(query.order_by(SubscriptionRow.created_at, SubscriptionRow.id)).all()


def unsubscribe(session: Session, member: MemberRow, subscription_id: uuid.UUID) -> None:
    row = session.get(SubscriptionRow, subscription_id)
    if row is None or row.member_id != member.id:
        raise NotFound(f"member {member.id} has no subscription {subscription_id}")
    session.delete(row)
    session.flush()


def stop_following(session: Session, member_id: uuid.UUID, series: SeriesRow) -> list[SubscriptionRow]:
    """End every subscription that brings ``series`` to the member (the series itself, or their
    chapter or kind subscription if that is how it comes); what was ended, so it can be said."""
    ended = subscriptions_bringing(session, member_id, series)
    for row in ended:
        session.delete(row)
    session.flush()
    return ended


def subscription_out(row: SubscriptionRow) -> SubscriptionOut:
    return SubscriptionOut(
        id=row.id,
        member_id=row.member_id,
        series_id=row.series_id,
        chapter=Chapter(row.target) if row.target_type == "chapter" else None,
        kind=Kind(row.target) if row.target_type == "kind" else None,
        created_at=row.created_at,
    )


def _flush_or_conflict(session: Session, message: str) -> None:
    """Flush; a unique-key race lost to another request becomes a 409 (the session is dropped)."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(message) from exc


def series_followed_by(
    session: Session, member_id: uuid.UUID, *, include_cancelled: bool = False
) -> Sequence[uuid.UUID]:
    """The series a member follows: directly, through a chapter, or through a kind (a private
    series only directly: its chapter's staff choose who hears of it)."""
    subs = session.execute(
        select(SubscriptionRow.target_type, SubscriptionRow.target).where(
            SubscriptionRow.member_id == member_id
        )
    ).all()
    if not subs:
        return []
    by_type: dict[str, list[str]] = defaultdict(list)
    for target_type, target in subs:
        by_type[target_type].append(target)
    conditions: list[ColumnElement[bool]] = []
    if by_type["series"]:
        conditions.append(SeriesRow.id.in_([uuid.UUID(s) for s in by_type["series"]]))
    if by_type["chapter"]:  # a private series comes only to those subscribed to it by name
        conditions.append(SeriesRow.chapter.in_(by_type["chapter"]) & SeriesRow.private.is_(False))
    if by_type["kind"]:
        conditions.append(SeriesRow.kind.in_(by_type["kind"]) & SeriesRow.private.is_(False))
    query = select(SeriesRow.id).where(or_(*conditions))
    if not include_cancelled:
        query = query.where(SeriesRow.status == SeriesStatus.ACTIVE.value)
    return session.scalars(query).all()


def _bringing(series: SeriesRow) -> ColumnElement[bool]:
    """The subscriptions through which ``series`` reaches its followers: by name; and, unless it
    is private, through its chapter or its kind."""
    targets: ColumnElement[bool] = (SubscriptionRow.target_type == "series") & (
        SubscriptionRow.target == str(series.id)
    )
    if not series.private:
        targets = or_(
            targets,
            (SubscriptionRow.target_type == "chapter") & (SubscriptionRow.target == series.chapter),
            (SubscriptionRow.target_type == "kind") & (SubscriptionRow.target == series.kind),
        )
    return targets


def subscriptions_bringing(
    session: Session, member_id: uuid.UUID, series: SeriesRow
) -> list[SubscriptionRow]:
    """The member's subscriptions that bring them ``series`` (what an email of it was sent for,
    and what unsubscribing from that email ends), series first, then chapter, then kind."""
    rows = session.scalars(
        select(SubscriptionRow).where(SubscriptionRow.member_id == member_id, _bringing(series))
    ).all()
    order = {"series": 0, "chapter": 1, "kind": 2}
    return sorted(rows, key=lambda row: order[row.target_type])


def subscriber_ids(session: Session, series: SeriesRow) -> set[uuid.UUID]:
    """Members who follow an active series: directly, through its chapter or through its kind
    (a private one: directly only)."""
    if series.status != SeriesStatus.ACTIVE.value:
        return set()
    return set(session.scalars(subscribers_of(series).distinct()))


def subscribers_of(series: SeriesRow) -> Select[uuid.UUID]:
    """The ids of :func:`subscriber_ids` as a subquery to put in a statement (whatever the
    series' status: the caller decides)."""
    return select(SubscriptionRow.member_id).where(_bringing(series))
