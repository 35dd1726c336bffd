"""Staff accounts for the console: created by the CLI, signed in with a password.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommended
profile); hashes made with weaker parameters are upgraded at the next sign-in. Repeated wrong
passwords lock the account for a while, so a guessing attack gets a handful of tries per quarter
hour, not thousands per second.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.db.models import StaffRow
from scheduler.domain.auth import Principal
from scheduler.domain.errors import Conflict, InvalidInput, NotFound, Unauthorized
from schemas.names import Chapter, Role

MIN_PASSWORD = 10
MAX_PASSWORD = 256
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_hasher = PasswordHasher()
#: Verified against when the username is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("exsched-no-such-user")


class SignInFailed(Unauthorized):
    """Wrong username or password (the message never says which), or a locked account."""


class AccountLocked(SignInFailed):
    """Too many wrong passwords in a row; the account opens again at ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"too many wrong passwords; try again after {until:%H:%M} UTC")
        self.until = until


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
        password_hash=_hasher.hash(password),
        session_epoch=0,
        failed_logins=0,
    )
    session.add(row)
    session.flush()
    return row


def get_staff(session: Session, username: str) -> StaffRow:
    row = session.scalar(select(StaffRow).where(StaffRow.username == username.strip().lower()))
    if row is None:
        raise NotFound(f"no staff account named {username!r}")
    return row


def set_password(row: StaffRow, password: str) -> None:
    """New password; every open session of this account ends."""
    check_password(password)
    row.password_hash = _hasher.hash(password)
    row.session_epoch += 1
    row.failed_logins = 0
    row.locked_until = None


def disable(row: StaffRow, now: datetime) -> None:
    row.disabled_at = now
    row.session_epoch += 1


def enable(row: StaffRow) -> None:
    row.disabled_at = None
    row.failed_logins = 0
    row.locked_until = None


def sign_in(session: Session, username: str, password: str, now: datetime | None = None) -> StaffRow:
    """The account if the password is right; :class:`SignInFailed` otherwise (counts the failure)."""
    now = now or datetime.now(UTC)
    row = session.scalar(
        select(StaffRow).where(func.lower(StaffRow.username) == username.strip().lower()[:64])
    )
    if row is None or row.disabled_at is not None:
        _verify(_DUMMY_HASH, password)
        raise SignInFailed("wrong username or password")
    if row.locked_until is not None and row.locked_until > now:
        raise AccountLocked(row.locked_until)
    if not _verify(row.password_hash, password):
        row.failed_logins += 1
        if row.failed_logins >= LOCK_AFTER:
            row.locked_until = now + LOCK_FOR
            row.failed_logins = 0
        raise SignInFailed("wrong username or password")
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    row.failed_logins = 0
    row.locked_until = None
    row.last_login_at = now
    return row


def _verify(stored: str, password: str) -> bool:
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
