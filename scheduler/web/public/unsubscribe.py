"""``/unsubscribe/{token}``: the unsubscribe link of every email to a member (RFC 8058).

The email carries ``List-Unsubscribe: <https://…/unsubscribe/TOKEN>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``. A mail provider's unsubscribe button
POSTs ``List-Unsubscribe=One-Click`` to that URL with no cookie: the signed token is all the
authority it needs, and the answer is 200. A person who opens the link gets a page that says
what will end, and a button that POSTs it (with the page's form token). GET and HEAD change
nothing (mail scanners open every link).

What ends is what brought the email: the member's subscription to the series, or their chapter
or kind subscription if that is how the series reached them. Their pending notices of every
series they no longer follow are cancelled at once (``unsubscribed``), and the planner is asked
to look at the member.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from scheduler.db.models import MemberRow, SeriesRow
from scheduler.domain.members import stop_following, subscriptions_bringing
from scheduler.domain.tokens import InvalidToken, verify
from scheduler.i18n import translator
from scheduler.notices.audience import unfollowing
from scheduler.web.deps import ReplanDep, SessionDep, SettingsDep
from scheduler.web.public.forms import field, form_ok, form_token, read_form
from scheduler.web.public.pages import page, subscription_words

log = structlog.get_logger(__name__)
router = APIRouter(tags=["member links"])

#: What a mail provider posts (RFC 8058 §3.1).
ONE_CLICK = "One-Click"


def _target(session: Session, secret: str, token: str) -> tuple[MemberRow, SeriesRow] | None:
    try:
        claims = verify(secret, "unsubscribe", token)
        member = session.get(MemberRow, uuid.UUID(claims["m"]))
        series = session.get(SeriesRow, uuid.UUID(claims["s"]))
    except (InvalidToken, KeyError, ValueError):
        return None
    return None if member is None or series is None else (member, series)


def _gone() -> HTMLResponse:
    return page("zh-CN", "link_gone.html.j2", 404, en=translator("en"))


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
@router.head("/unsubscribe/{token}", include_in_schema=False)
def unsubscribe_page(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """What unsubscribing will end, and the button that ends it."""
    found = _target(session, settings.secret_key, token)
    if found is None:
        return _gone()
    member, series = found
    t = translator(member.locale)
    ended = [
        subscription_words(t, row, series.title) for row in subscriptions_bringing(session, member.id, series)
    ]
    return page(
        member.locale,
        "unsubscribe.html.j2",
        title=series.title,
        ended=ended,
        done=False,
        csrf=form_token(settings.secret_key, f"unsubscribe.{token}"),
    )


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe(
    token: str, request: Request, session: SessionDep, settings: SettingsDep, replan: ReplanDep
) -> HTMLResponse:
    """End the subscriptions that bring the series: a one-click POST from a mail provider, or the
    page's button. Unsubscribing twice is not an error (the second finds nothing to end)."""
    found = _target(session, settings.secret_key, token)
    if found is None:
        return _gone()
    member, series = found
    fields = await read_form(request, limit=4096)
    one_click = fields is not None and field(fields, "List-Unsubscribe") == ONE_CLICK
    if not one_click and not (
        fields is not None and form_ok(settings.secret_key, f"unsubscribe.{token}", fields)
    ):
        return page(member.locale, "form_expired.html.j2", 403)
    t = translator(member.locale)
    with unfollowing(session, member.id, datetime.now(UTC)) as withdrawn:
        ended = [
            subscription_words(t, row, series.title) for row in stop_following(session, member.id, series)
        ]
    replan.commit(member_ids=[member.id])
    log.info(
        "member_unsubscribed",
        member_id=str(member.id),
        series_id=str(series.id),
        how="one-click" if one_click else "page",
        ended=len(ended),
        notices_cancelled=withdrawn.cancelled,
    )
    return page(member.locale, "unsubscribe.html.j2", title=series.title, ended=ended, done=True, csrf="")
