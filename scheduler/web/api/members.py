"""``/api/v1/members``: members and their subscriptions (staff keys only)."""

from __future__ import annotations

import uuid

import structlog
from fastapi import APIRouter, Response, status

from scheduler.domain import members as people
from scheduler.web.deps import CHECK_KEY, ReplanDep, SessionDep, SettingsDep, StaffDep
from schemas.api import ErrorOut, MemberCreate, MemberOut, MemberUpdate, SubscriptionCreate, SubscriptionOut
from schemas.names import Chapter

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1/members", tags=["members"], dependencies=CHECK_KEY)
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 422)
}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MemberOut, responses=_ERRORS)
def create_member(
    body: MemberCreate, session: SessionDep, staff: StaffDep, settings: SettingsDep, response: Response
) -> MemberOut:
    row = people.create_member(session, body, staff)
    session.commit()
    log.info("member_created", member_id=str(row.id), chapter=row.chapter)
    response.headers["Location"] = f"/api/v1/members/{row.id}"
    return people.member_out(row, settings.public_url)


@router.get("", response_model=list[MemberOut], responses=_ERRORS)
def list_members(
    session: SessionDep, staff: StaffDep, settings: SettingsDep, chapter: Chapter | None = None
) -> list[MemberOut]:
    return [people.member_out(r, settings.public_url) for r in people.list_members(session, staff, chapter)]


@router.get("/{member_id}", response_model=MemberOut, responses=_ERRORS)
def get_member(
    member_id: uuid.UUID, session: SessionDep, staff: StaffDep, settings: SettingsDep
) -> MemberOut:
    return people.member_out(people.get_member(session, member_id, staff), settings.public_url)


@router.patch("/{member_id}", response_model=MemberOut, responses=_ERRORS)
def update_member(
    member_id: uuid.UUID,
    body: MemberUpdate,
    session: SessionDep,
    staff: StaffDep,
    settings: SettingsDep,
    replan: ReplanDep,
) -> MemberOut:
    row = people.update_member(session, people.get_member(session, member_id, staff), body, staff)
    replan.commit(member_ids=[row.id] if "channels" in body.model_fields_set else [])
    log.info("member_updated", member_id=str(row.id))
    return people.member_out(row, settings.public_url)


@router.delete("/{member_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def delete_member(member_id: uuid.UUID, session: SessionDep, staff: StaffDep) -> Response:
    people.delete_member(session, people.get_member(session, member_id, staff))
    session.commit()
    log.info("member_deleted", member_id=str(member_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{member_id}/subscriptions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionOut,
    responses=_ERRORS,
)
def subscribe(
    member_id: uuid.UUID, body: SubscriptionCreate, session: SessionDep, staff: StaffDep, replan: ReplanDep
) -> SubscriptionOut:
    row = people.subscribe(session, people.get_member(session, member_id, staff), body, staff)
    replan.commit(member_ids=[member_id])
    log.info("subscribed", member_id=str(member_id), target_type=row.target_type, target=row.target)
    return people.subscription_out(row)


@router.get("/{member_id}/subscriptions", response_model=list[SubscriptionOut], responses=_ERRORS)
def list_subscriptions(member_id: uuid.UUID, session: SessionDep, staff: StaffDep) -> list[SubscriptionOut]:
    member = people.get_member(session, member_id, staff)
    return [people.subscription_out(r) for r in people.subscriptions_of(session, member)]


@router.delete(
    "/{member_id}/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS
)
def unsubscribe(
    member_id: uuid.UUID, subscription_id: uuid.UUID, session: SessionDep, staff: StaffDep, replan: ReplanDep
) -> Response:
    people.unsubscribe(session, people.get_member(session, member_id, staff), subscription_id)
    replan.commit(member_ids=[member_id])
    log.info("unsubscribed", member_id=str(member_id), subscription_id=str(subscription_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
