"""Staff accounts for the console: created by the CLI or by the province office in the console
(with a temporary password the person replaces at their first sign-in), signed in with a password.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommended
profile); hashes made with weaker parameters are upgraded at the next sign-in.

Guessing is slowed down by three counters (:mod:`scheduler.domain.throttle`), each taken and
committed *before* a password is checked, so parallel guesses cannot race past them:

* per account name, known or not (:data:`ACCOUNT`): a few tries a quarter hour from browsers
  the account has not signed in from. Unknown names are counted and locked exactly like real
  ones, so neither the answer nor its speed tells which names exist;
* per browser the account signed in from before (:data:`DEVICE`; the browser holds a signed
  cookie naming the account): its own few tries, so an attacker locking the account name out
  does not lock the real person out of their own browser;
* per client address (:data:`CLIENT`), across every name, for browsers not known to the name.

Checking a password takes 64 MiB for tens of milliseconds: at most :data:`HASHING_AT_ONCE`
run at a time in a process; a sign-in that cannot get a turn within :data:`HASH_WAIT` is told
to try again (503) rather than queueing without bound.
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.db.models import StaffRow
from scheduler.db.session import Database
from scheduler.domain import throttle
from scheduler.domain.auth import Principal
from scheduler.domain.errors import Conflict, InvalidInput, NotFound, Unauthorized, Unavailable
from schemas.names import Chapter, Role

MIN_PASSWORD = 10
MAX_PASSWORD = 256
ACCOUNT = throttle.Window(limit=5, length=timedelta(minutes=15))
DEVICE = throttle.Window(limit=5, length=timedelta(minutes=15))
CLIENT = throttle.Window(limit=30, length=timedelta(minutes=15))
LOCK_AFTER = ACCOUNT.limit
HASHING_AT_ONCE = 2
HASH_WAIT = 3.0
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_hasher = PasswordHasher()
_hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)
#: Verified against when the username is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("exsched-no-such-user")


class SignInFailed(Unauthorized):
    """Wrong username or password (the message never says which)."""


class AccountLocked(SignInFailed):
    """This account name had too many tries from browsers it does not know; open at ``until``."""

    status = 429

    def __init__(self, until: datetime) -> None:
        super().__init__(f"too many wrong passwords; try again after {until:%H:%M} UTC")
        self.until = until


class ClientThrottled(SignInFailed):
    """This client address had too many tries, whatever the names; open at ``until``."""

    status = 429

    def __init__(self, until: datetime) -> None:
        super().__init__(f"too many sign-in attempts from this address; try again after {until:%H:%M} UTC")
        self.until = until


class HashingBusy(Unavailable):
    """Every password-checking turn is taken; try again in a moment."""


@dataclass(frozen=True)
class Attempt:
    """One try at signing in: the name and password typed, from which client address, and the
    id of the trusted-browser cookie this browser holds for that name (if it holds one)."""

    username: str
    password: str
    client: str
    device: str | None = None


@dataclass(frozen=True)
class SignedIn:
    """A right password: who it is, and the trusted-browser id to give (or renew) the browser."""

    staff_id: uuid.UUID
    username: str
    session_epoch: int
    device: str


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"the password may have at most {MAX_PASSWORD} characters", field="password")


def create_staff(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role | str,
    chapter: Chapter | str | None = None,
    display_name: str = "",
) -> StaffRow:
    username = username.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "a username is 2-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
            field="username",
        )
    role = Role(role)
    if role is Role.CHAPTER and chapter is None:
        raise InvalidInput("chapter staff need --chapter (e.g. --chapter ningbo)", field="chapter")
    if role is Role.ADMIN and chapter is not None:
        raise InvalidInput("province staff (admin) see every chapter; drop --chapter", field="chapter")
    check_password(password)
    if session.scalar(select(StaffRow.id).where(StaffRow.username == username)) is not None:
        raise Conflict(f"there is already a staff account named {username!r}", field="username")
    row = StaffRow(
        username=username,
        display_name=display_name.strip() or username,
        role=role.value,
        chapter=Chapter(chapter).value if chapter is not None else None,
        password_hash=_hash(password),
        session_epoch=0,
    )
    session.add(row)
    session.flush()
    return row


def set_email(row: StaffRow, email: str | None) -> None:
    """Where the monthly digest goes for this person; "" or None: no digest."""
    email = (email or "").strip()
    if not email:
        row.email = None
        return
    if len(email) > 320 or not email.isprintable():
        raise InvalidInput("that is not an email address", field="email")
    try:
        found = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"that is not an email address: {exc}", field="email") from exc
    row.email = found.normalized.lower()


def get_staff(session: Session, username: str) -> StaffRow:
    row = session.scalar(select(StaffRow).where(StaffRow.username == username.strip().lower()))
    if row is None:
        raise NotFound(f"no staff account named {username!r}")
    return row


def set_password(session: Session, row: StaffRow, password: str) -> None:
    """New password; every open session of this account ends and its name may be tried again."""
    check_password(password)
    row.password_hash = _hash(password)
    row.session_epoch += 1
    row.must_change_password = False
    throttle.clear(session, _account_key(row.username))


#: The letters of a temporary password: none that read alike (0/o, 1/l/i), so it survives being
#: read out over the phone or copied from a chat message.
_READABLE = "abcdefghjkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """Three groups of four readable letters (about 59 bits), e.g. ``k7wq-3nfp-x2ha``."""
    return "-".join("".join(secrets.choice(_READABLE) for _ in range(4)) for _ in range(3))


def give_temporary_password(session: Session, row: StaffRow) -> str:
    """A new temporary password for the account (returned once, to hand over): its sessions end,
    and its next sign-in must set a password of the person's own before anything else."""
    password = temporary_password()
    set_password(session, row, password)
    row.must_change_password = True
    return password


def change_own_password(session: Session, row: StaffRow, current: str, new: str) -> None:
    """The signed-in person replaces their password: ``current`` must be right (so an unlocked
    screen is not enough) and ``new`` must differ from it."""
    if not _check(row.password_hash, current):
        raise InvalidInput("the current password is not right", field="current")
    if new == current:
        raise InvalidInput("the new password must differ from the current one", field="new")
    set_password(session, row, new)


def disable(row: StaffRow, now: datetime) -> None:
    row.disabled_at = now
    row.session_epoch += 1


def enable(session: Session, row: StaffRow) -> None:
    """Sign-in allowed again, and a lock on the account name lifted."""
    row.disabled_at = None
    throttle.clear(session, _account_key(row.username))


def normal_name(username: str) -> str:
    return username.strip().lower()[:64]


def _account_key(name: str) -> str:
    return f"account:{name}"


def sign_in(db: Database, attempt: Attempt, now: datetime | None = None) -> SignedIn:
    """The account if the password is right; :class:`SignInFailed` (or a subclass) otherwise.

    The attempt is counted and committed first, then the password checked without a database
    connection held, then a right password clears its name's count in a second transaction."""
    now = now or datetime.now(UTC)
    name = normal_name(attempt.username)
    client_key = f"client:{attempt.client}"
    try_key = f"device:{attempt.device}" if attempt.device else _account_key(name)
    with db.session() as session:
        throttle.forget_ended(session, now)
        if attempt.device is None:
            client = throttle.take(session, client_key, CLIENT, now)
            if not client.allowed:
                raise ClientThrottled(client.opens_at)
        tried = throttle.take(session, try_key, DEVICE if attempt.device else ACCOUNT, now)
        if not tried.allowed:
            raise AccountLocked(tried.opens_at)
        row = session.scalar(select(StaffRow).where(func.lower(StaffRow.username) == name))
        stored = row.password_hash if row is not None and row.disabled_at is None else None
    if not _check(stored or _DUMMY_HASH, attempt.password) or stored is None:
        raise SignInFailed("wrong username or password")
    with db.session() as session:
        row = session.scalar(select(StaffRow).where(func.lower(StaffRow.username) == name))
        if row is None or row.disabled_at is not None or row.password_hash != stored:
            raise SignInFailed("wrong username or password")  # changed while the password was checked
        throttle.clear(session, try_key)
        if attempt.device is None:
            throttle.give_back(session, client_key)
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hash(attempt.password)
        row.last_login_at = now
        return SignedIn(
            staff_id=row.id,
            username=row.username,
            session_epoch=row.session_epoch,
            device=attempt.device or secrets.token_urlsafe(18),
        )


def locked_until(session: Session, username: str, now: datetime) -> datetime | None:
    """When the account name may be tried again from a browser it does not know (None: now)."""
    return throttle.closed_until(session, _account_key(normal_name(username)), ACCOUNT, now)


@contextmanager
def _hashing_turn() -> Iterator[None]:
    if not _hashing.acquire(timeout=HASH_WAIT):
        raise HashingBusy("the server is checking many passwords at once; try again in a moment")
    try:
        yield
    finally:
        _hashing.release()


def _hash(password: str) -> str:
    with _hashing_turn():
        return _hasher.hash(password)


def _check(stored: str, password: str) -> bool:
    with _hashing_turn():
        try:
            return _hasher.verify(stored, password[:MAX_PASSWORD])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def principal_of(row: StaffRow) -> Principal:
    """The same authority an API key of this role and chapter has."""
    return Principal(
        role=Role(row.role),
        chapter=Chapter(row.chapter) if row.chapter else None,
        key_id=f"staff:{row.username}",
    )
