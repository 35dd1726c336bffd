"""The plain emails members ask for (a sign-in link, a confirmation of a new address or of
joining) and the welcome staff send by approving a request to join. Written in the member's
language from the shared catalogs, and sent after the answer has gone back (a background
task), so a request takes as long whether or not a mail is sent: the sign-in and join forms
must not tell who is a member."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from fastapi import BackgroundTasks
from jinja2 import PackageLoader

from scheduler.i18n import Templates
from scheduler.web.deps import Postman
from schemas.mail import PlainMail

log = structlog.get_logger(__name__)
TEMPLATES = Templates(PackageLoader("scheduler.web", "mail_templates"), trim=False)


def compose(
    locale: str,
    *,
    key: str,
    to_name: str,
    to_email: str,
    subject: str,
    paragraphs: list[str],
    action: tuple[str, str],
    note: str,
) -> PlainMail:
    """One mail: a greeting, what it is about, one button (label, URL) and a closing note."""
    env = TEMPLATES.get(locale)
    values = {
        "name": to_name,
        "paragraphs": paragraphs,
        "label": action[0],
        "url": action[1],
        "note": note,
        "subject": subject,
    }
    return PlainMail(
        to_name=to_name,
        to_email=to_email,
        subject=subject,
        text=env.get_template("plain.txt.j2").render(values),
        html=env.get_template("plain.html.j2").render(values),
        key=key,
    )


def send_later(background: BackgroundTasks, postman: Postman | None, make: Callable[[], PlainMail]) -> None:
    """Write (``make``) and send the mail once the answer has gone: the answer takes as long
    whether or not there is a mail to write."""
    background.add_task(_deliver, postman, make)


def _deliver(postman: Postman | None, make: Callable[[], PlainMail]) -> None:
    mail = make()
    if postman is None:
        log.warning("member_mail_not_sent", key=mail.key, reason="this process has no mail channel")
        return
    try:
        postman(mail)
    except Exception as exc:
        log.error("member_mail_failed", key=mail.key, error=repr(exc))
    else:
        log.info("member_mail_sent", key=mail.key)
