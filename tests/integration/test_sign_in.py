"""Console sign-in under attack (SQLite and PostgreSQL): parallel guesses, locking a name out,
telling names apart, one address trying many names, and Argon2's memory per attempt."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from scheduler.db.models import AttemptsRow
from scheduler.db.session import Database
from scheduler.domain import staff
from scheduler.domain.staff import (
    ACCOUNT,
    CLIENT,
    DEVICE,
    AccountLocked,
    Attempt,
    ClientThrottled,
    HashingBusy,
    SignedIn,
    SignInFailed,
    enable,
    get_staff,
    locked_until,
    sign_in,
)
from tests.support.console import PASSWORD, add_staff, csrf_of, new_browser


def attempt(db: Database, username: str, password: str, client: str, device: str | None = None) -> str:
    """What one try came to: "ok", "wrong", "locked", "throttled" or "busy"."""
    try:
        sign_in(db, Attempt(username, password, client, device))
    except AccountLocked:
        return "locked"
    except ClientThrottled:
        return "throttled"
    except SignInFailed:
        return "wrong"
    except HashingBusy:
        return "busy"
    return "ok"


def parallel(count: int, job: object) -> list[str]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(job, range(count)))  # type: ignore[arg-type]


def test_forty_parallel_guesses_get_exactly_the_limit_of_checks_and_then_the_right_password_is_refused(
    db: Database,
) -> None:
    add_staff(db, "ningbo", "chapter", "ningbo")
    outcomes = parallel(40, lambda i: attempt(db, "ningbo", f"guess number {i}", f"198.51.100.{i}"))
    assert outcomes.count("wrong") == ACCOUNT.limit
    assert outcomes.count("locked") == 40 - ACCOUNT.limit
    # a second parallel round holding the right password gets nowhere from a browser the account
    # has not signed in from
    second = parallel(
        10, lambda i: attempt(db, "ningbo", PASSWORD if i == 3 else "another guess", f"203.0.113.{i}")
    )
    assert second == ["locked"] * 10
    with db.session() as session:
        assert locked_until(session, "ningbo", datetime.now(UTC)) is not None


def test_a_locked_name_does_not_lock_the_owner_out_of_a_browser_they_signed_in_from(db: Database) -> None:
    add_staff(db, "ningbo", "chapter", "ningbo")
    first = sign_in(db, Attempt("ningbo", PASSWORD, "192.0.2.10"))
    assert isinstance(first, SignedIn) and first.device
    for i in range(ACCOUNT.limit + 3):  # someone elsewhere keeps the name locked
        attempt(db, "ningbo", "a guess or two", f"198.51.100.{i}")
    assert attempt(db, "ningbo", PASSWORD, "192.0.2.10") == "locked"  # no trusted-browser cookie
    again = sign_in(db, Attempt("ningbo", PASSWORD, "192.0.2.10", first.device))
    assert again.device == first.device and again.staff_id == first.staff_id
    # the trusted browser has its own few tries, not unlimited ones
    tries = [attempt(db, "ningbo", "typo typo", "192.0.2.10", first.device) for _ in range(DEVICE.limit + 1)]
    assert tries == ["wrong"] * DEVICE.limit + ["locked"]
    # staff can lift the name's lock (`exsched staff enable`)
    with db.session() as session:
        enable(session, get_staff(session, "ningbo"))
    assert attempt(db, "ningbo", PASSWORD, "198.51.100.200") == "ok"


def test_unknown_names_are_counted_and_locked_exactly_like_real_ones(db: Database) -> None:
    add_staff(db, "ningbo", "chapter", "ningbo")
    known = [attempt(db, "ningbo", "a wrong guess", f"198.51.100.{i}") for i in range(ACCOUNT.limit + 1)]
    unknown = [attempt(db, "nobody", "a wrong guess", f"203.0.113.{i}") for i in range(ACCOUNT.limit + 1)]
    assert known == unknown == ["wrong"] * ACCOUNT.limit + ["locked"]
    with db.session() as session:  # only digests are stored, never what was typed
        keys = session.scalars(select(AttemptsRow.key)).all()
    assert keys and all(len(k) == 64 and "nobody" not in k for k in keys)


def test_one_address_trying_many_names_is_held_back_but_not_a_trusted_browser_behind_it(db: Database) -> None:
    add_staff(db, "wenzhou", "chapter", "wenzhou")
    owner = sign_in(db, Attempt("wenzhou", PASSWORD, "192.0.2.99"))
    outcomes = [attempt(db, f"name{i}", "a wrong guess", "192.0.2.99") for i in range(CLIENT.limit + 2)]
    assert outcomes == ["wrong"] * CLIENT.limit + ["throttled"] * 2
    assert attempt(db, "wenzhou", PASSWORD, "192.0.2.99") == "throttled"
    assert attempt(db, "wenzhou", PASSWORD, "192.0.2.99", owner.device) == "ok"
    assert attempt(db, "wenzhou", PASSWORD, "192.0.2.100") == "ok"


def test_a_right_password_gives_back_its_address_slot(db: Database) -> None:
    add_staff(db, "admin")
    for _ in range(CLIENT.limit + 5):  # an office behind one address signing in all day
        assert attempt(db, "admin", PASSWORD, "192.0.2.1") == "ok"


def test_counts_start_again_when_the_window_ends(db: Database) -> None:
    add_staff(db, "ningbo", "chapter", "ningbo")
    then = datetime.now(UTC) - ACCOUNT.length - timedelta(seconds=1)
    for i in range(ACCOUNT.limit + 1):
        with pytest.raises(SignInFailed):
            sign_in(db, Attempt("ningbo", "old guess", f"198.51.100.{i}"), then)
    assert sign_in(db, Attempt("ningbo", PASSWORD, "198.51.100.77")).username == "ningbo"
    with db.session() as session:  # ended windows are forgotten, not kept for ever
        assert session.scalar(select(func.count()).select_from(AttemptsRow)) == 1  # the address's


class SlowHasher:
    """argon2's hasher, taking 0.3 s a check and noting how many checks ran at once."""

    def __init__(self, real: PasswordHasher) -> None:
        self.real = real
        self.running = self.most = 0
        self.lock = threading.Lock()

    def verify(self, stored: str, password: str) -> bool:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.3)
            return self.real.verify(stored, password)
        finally:
            with self.lock:
                self.running -= 1

    def check_needs_rehash(self, stored: str) -> bool:
        return self.real.check_needs_rehash(stored)


def test_passwords_are_checked_two_at_a_time_and_a_crowd_is_told_to_come_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_staff(db, "admin")
    hasher = SlowHasher(staff._hasher)
    monkeypatch.setattr(staff, "_hasher", hasher)
    monkeypatch.setattr(staff, "HASH_WAIT", 0.1)
    outcomes = parallel(8, lambda i: attempt(db, f"user{i}", "a wrong guess", f"198.51.100.{i}"))
    assert hasher.most == staff.HASHING_AT_ONCE
    assert outcomes.count("busy") >= 4 and set(outcomes) <= {"wrong", "busy"}


# --- over HTTP -------------------------------------------------------------------------------


def post_login(browser: TestClient, username: str, password: str) -> tuple[int, str, str]:
    page = browser.get("/console/login")
    response = browser.post(
        "/console/login",
        data={"csrf": csrf_of(page.text), "username": username, "password": password},
        follow_redirects=False,
    )
    return response.status_code, response.text, response.headers.get("set-cookie", "")


def test_the_console_answers_alike_for_a_locked_real_name_and_an_unknown_one(
    client: TestClient, db: Database
) -> None:
    add_staff(db, "ningbo", "chapter", "ningbo")
    browser = new_browser(client)
    for name in ("ningbo", "nobody"):
        for _ in range(ACCOUNT.limit):
            assert post_login(browser, name, "a wrong guess")[0] == 401
    real = post_login(browser, "ningbo", "a wrong guess")
    fake = post_login(browser, "nobody", "a wrong guess")
    assert real[0] == fake[0] == 429
    assert "账户已暂时锁定" in real[1] and "以前登录过的浏览器仍可登录" in real[1]
    # the same words; the time each opens again is its own (the two were locked seconds apart,
    # sometimes either side of a minute)
    assert re.sub(r"\d\d:\d\d", "HH:MM", real[1].replace("ningbo", "NAME")) == re.sub(
        r"\d\d:\d\d", "HH:MM", fake[1].replace("nobody", "NAME")
    )


def test_signing_in_leaves_a_trusted_browser_cookie_that_outlasts_a_lock(
    client: TestClient, db: Database
) -> None:
    add_staff(db, "ningbo", "chapter", "ningbo")
    owner = new_browser(client)
    status, _, cookies = post_login(owner, "ningbo", PASSWORD)
    assert status == 303
    assert "exsched_device=" in cookies
    device = next(c for c in cookies.split(", exsched") if "device=" in c)
    assert "Path=/console/login" in device and "HttpOnly" in device and "SameSite=strict" in device
    attacker = new_browser(client)
    for _ in range(ACCOUNT.limit + 1):
        post_login(attacker, "ningbo", "a wrong guess")
    assert post_login(attacker, "ningbo", PASSWORD)[0] == 429
    owner.post("/console/logout", data={"csrf": csrf_of(owner.get("/console/series").text)})
    assert post_login(owner, "ningbo", PASSWORD)[0] == 303


def test_a_busy_server_says_so_and_when_to_come_back(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_staff(db, "admin")
    held = [staff._hashing.acquire() for _ in range(staff.HASHING_AT_ONCE)]
    monkeypatch.setattr(staff, "HASH_WAIT", 0.05)
    try:
        browser = new_browser(client)
        page = browser.get("/console/login")
        response = browser.post(
            "/console/login", data={"csrf": csrf_of(page.text), "username": "admin", "password": PASSWORD}
        )
    finally:
        for _ in held:
            staff._hashing.release()
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "服务器正忙" in response.text
