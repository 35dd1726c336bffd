"""Pages anyone may open: the sessions page at ``/`` and a page per public session, the pages
members reach from links in their emails (RSVP, follow-up form, unsubscribe), and the member
page ``/me`` with its sign-in."""

from __future__ import annotations

from fastapi import FastAPI

from scheduler.web.public.checkin_code import router as checkin_router
from scheduler.web.public.followup import router as followup_router
from scheduler.web.public.home import router as home_router
from scheduler.web.public.join import router as join_router
from scheduler.web.public.links import router as links_router
from scheduler.web.public.me import router as me_router
from scheduler.web.public.member_signin import router as signin_router
from scheduler.web.public.sessions import router as sessions_router
from scheduler.web.public.unsubscribe import router as unsubscribe_router


def install_public(app: FastAPI) -> None:
    app.include_router(links_router)
    app.include_router(followup_router)
    app.include_router(checkin_router)
    app.include_router(unsubscribe_router)
    app.include_router(signin_router)
    app.include_router(me_router)
    app.include_router(join_router)
    app.include_router(sessions_router)
    app.include_router(home_router)
