"""Reading replies from a hosted mailbox by IMAP (腾讯企业邮, 阿里企业邮, Exchange): for an
association whose mail is not on a server it runs, so no MTA can deliver to ``serve inbound``.

``EXSCHED_INBOUND_IMAP_URL=imaps://user:password@imap.example.com/INBOX`` (``imap://`` for a
server on a trusted network; a port may follow the host). Every poll takes in each message of
the folder and then moves it to ``exsched-done`` (created if missing), so it is read once however
often the poll runs; a message that could not be taken in (the database away) stays for the next
poll. Polls come every ``EXSCHED_INBOUND_IMAP_POLL_SECONDS``.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import structlog
from imapclient import IMAPClient
from sqlalchemy.exc import OperationalError

from scheduler.db.session import Database
from scheduler.domain.holidays import HolidayCalendar
from scheduler.inbound.intake import take_in
from scheduler.inbound.replies import MAX_BYTES
from scheduler.ops.clock import utcnow

log = structlog.get_logger(__name__)

DONE_FOLDER = "exsched-done"
BATCH = 50


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    tls: bool
    user: str
    password: str
    folder: str

    @classmethod
    def from_url(cls, url: str) -> Mailbox:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise ValueError(
                "EXSCHED_INBOUND_IMAP_URL must look like imaps://user:password@host/INBOX "
                f"(got scheme {parts.scheme!r})"
            )
        tls = parts.scheme == "imaps"
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if tls else 143),
            tls=tls,
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
        )


def poll_once(db: Database, holidays: HolidayCalendar, mailbox: Mailbox, timeout: float = 30.0) -> int:
    """Take in every message of the folder and move each taken-in one to :data:`DONE_FOLDER`;
    how many were taken in."""
    context = ssl.create_default_context() if mailbox.tls else None
    taken = 0
    with IMAPClient(
        mailbox.host, port=mailbox.port, ssl=mailbox.tls, ssl_context=context, timeout=timeout
    ) as client:
        client.login(mailbox.user, mailbox.password)
        if not client.folder_exists(DONE_FOLDER):
            client.create_folder(DONE_FOLDER)
        client.select_folder(mailbox.folder)
        uids = client.search(["NOT", "DELETED"])
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            sizes = client.fetch(batch, ["RFC822.SIZE"])
            wanted = [uid for uid in batch if int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0)) <= MAX_BYTES]
            done = [uid for uid in batch if uid not in wanted]  # too large: moved unread
            for uid, data in client.fetch(wanted, ["RFC822"]).items():
                try:
                    take_in(db, bytes(data[b"RFC822"]), utcnow(), holidays)
                except OperationalError as exc:  # the database away: the message waits for the next poll
                    log.warning("inbound_imap_database_unavailable", error=str(exc.orig))
                    continue
                done.append(uid)
                taken += 1
            if done:
                _move(client, done)
    return taken


def _move(client: IMAPClient, uids: list[int]) -> None:
    if client.has_capability("MOVE"):
        client.move(uids, DONE_FOLDER)
        return
    client.copy(uids, DONE_FOLDER)
    client.delete_messages(uids)
    if client.has_capability("UIDPLUS"):
        client.expunge(uids)  # only these: another reader's deletions are not ours to expunge
    else:
        client.expunge()


def poll_forever(
    db: Database, holidays: HolidayCalendar, mailbox: Mailbox, every: float, stop: threading.Event
) -> None:
    """Poll until ``stop``; a failed poll (the server away, a wrong password) is logged and tried
    again at the next interval."""
    while not stop.is_set():
        try:
            taken = poll_once(db, holidays, mailbox)
            if taken:
                log.info("inbound_imap_polled", taken=taken)
        except Exception as exc:
            log.warning("inbound_imap_failed", host=mailbox.host, error=repr(exc))
        stop.wait(every)
