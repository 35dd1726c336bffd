"""``exsched doctor`` as the IT team runs it, against real servers: a configuration that is right
passes every check (the mail loop through `serve inbound` included); each thing that is wrong is
named, with its fix, and makes the exit status 1."""

from __future__ import annotations

import json
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import select, text

from scheduler.bus.rabbitmq import RabbitBus
from scheduler.db.migrate import upgrade
from scheduler.db.models import HolidayDayRow, HolidayYearRow, InboundMailRow
from scheduler.db.session import Database
from tests.support.processes import (
    free_port,
    listening,
    run,
    serving,
    start_exsched,
    stop_process,
    wait_until,
)
from tests.support.services import scratch_database as new_database
from tests.support.smtp import SmtpSink

pytestmark = [pytest.mark.acceptance, pytest.mark.postgres, pytest.mark.rabbitmq]

SECRET = secrets.token_urlsafe(48)


def doctor(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, list[dict[str, str]]]:
    done = run(["doctor", "--json", *args], env, cwd)
    assert done.stderr == "", done.stderr
    return done.returncode, json.loads(done.stdout)


def said(findings: list[dict[str, str]], check: str) -> list[tuple[str, str]]:
    return [(f["status"], f["said"]) for f in findings if f["check"] == check]


def test_a_configuration_that_is_right_passes_and_the_mail_loop_comes_back(
    env: dict[str, str], pg: Database, tmp_path: Path
) -> None:
    inbound_port, api_port = free_port(), free_port()
    env = env | {
        "EXSCHED_SECRET_KEY": SECRET,
        "EXSCHED_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
        # the relay is `serve inbound` itself, speaking SMTP: mail to any address reaches it, as
        # an MTA routing the reply and bounce addresses there would deliver it
        "EXSCHED_SMTP_URL": f"smtp://127.0.0.1:{inbound_port}",
        "EXSCHED_INBOUND_LISTEN": f"127.0.0.1:{inbound_port}",
        "EXSCHED_INBOUND_PROTOCOL": "smtp",
        "EXSCHED_MAIL_FROM": "浙江省服装行业协会 <sessions@assoc.example>",
        "EXSCHED_REPLY_ADDRESS": "replies@assoc.example",
        "EXSCHED_BOUNCE_ADDRESS": "bounce@assoc.example",
    }
    following = date.today().year + 1  # next year's holidays, as the province office entered them
    with pg.session() as session:
        session.add(HolidayYearRow(year=following, entered_by="wang.li", entered_at=datetime.now(UTC)))
        session.flush()
        session.add(
            HolidayDayRow(day=date(following, 1, 1), year=following, off=True, holiday="New Year's Day")
        )
    inbound = start_exsched("inbound", env, tmp_path / "inbound.log")
    try:
        wait_until(lambda: listening(inbound_port), 60, "serve inbound listening")
        with serving(["serve", "api", "--port", str(api_port)], env, tmp_path, api_port):
            status, findings = doctor(env, tmp_path, "--mail-loop")
    finally:
        stop_process(inbound)
    problems = [f for f in findings if f["status"] != "ok"]
    assert problems == [] and status == 0
    assert "(entered in the console)" in said(findings, "holidays")[0][1]
    checks = {f["check"] for f in findings}
    assert checks >= {
        "secret key",
        "database",
        "clock",
        "broker",
        "smtp",
        "public url",
        "inbound",
        "mail loop",
    }
    assert len(said(findings, "broker")) == 3  # the node, the topology, the permission round trip
    loop = said(findings, "mail loop")
    assert [status for status, _ in loop] == ["ok", "ok"]
    assert "mail to replies@assoc.example reached `serve inbound`" in loop[0][1]
    assert "mail to bounce+00000000-0000-0000-0000-000000000000@assoc.example reached" in loop[1][1]
    assert any(
        "bounce+00000000-0000-0000-0000-000000000000@assoc.example" in s for _, s in said(findings, "smtp")
    )
    with pg.session() as session:
        taken = session.scalars(select(InboundMailRow.outcome)).all()
    assert sorted(taken) == ["not-a-reply", "not-a-reply"]  # kept as mail that was not applied
    # and the text an operator reads says the same
    plain = run(["doctor"], env | {"EXSCHED_PUBLIC_URL": "https://sessions.example.org"}, tmp_path)
    assert "✗ public url" in plain.stdout and "→ start `exsched serve api`" in plain.stdout
    assert plain.returncode == 1


def test_each_thing_wrong_is_named_with_its_fix(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    smtp_sink.refuse_senders = {"assoc.example"}
    closed = free_port()
    amqp = urlsplit(env["EXSCHED_AMQP_URL"])
    wrong_password = urlunsplit(amqp._replace(netloc=f"guest:not-the-password@{amqp.hostname}:{amqp.port}"))
    env = env | {
        "EXSCHED_DATABASE_URL": f"postgresql://exsched@127.0.0.1:{closed}/exsched",
        "EXSCHED_AMQP_URL": wrong_password,
        "EXSCHED_SMTP_URL": smtp_sink.url,
        "EXSCHED_BOUNCE_ADDRESS": "bounce@assoc.example",
        "EXSCHED_REPLY_ADDRESS": "replies@assoc.example",
        "EXSCHED_PUBLIC_URL": f"http://127.0.0.1:{free_port()}",
        "EXSCHED_INBOUND_LISTEN": f"127.0.0.1:{free_port()}",
    }
    env.pop("EXSCHED_SECRET_KEY", None)
    status, findings = doctor(env, tmp_path)
    assert status == 1
    failed = {f["check"]: f for f in findings if f["status"] == "fail"}
    assert set(failed) == {"secret key", "database", "broker", "smtp", "public url", "inbound"}
    assert (
        "development key" in failed["secret key"]["said"] and "token_urlsafe" in failed["secret key"]["fix"]
    )
    assert "no database server answers" in failed["database"]["said"]
    assert "refused the user name or password" in failed["broker"]["said"]
    assert "guest:***@" in failed["broker"]["said"] and "not-the-password" not in json.dumps(findings)
    smtp = failed["smtp"]["said"]
    assert "refuses bounce+00000000-0000-0000-0000-000000000000@assoc.example as the sender: 553" in smtp
    assert "does not answer" in failed["public url"]["said"]
    assert "nothing answers on 127.0.0.1:" in failed["inbound"]["said"]
    assert smtp_sink.received() == []  # the relay was asked, nothing was sent


@pytest.fixture
def empty_database(postgres_url: str) -> Iterator[str]:
    """A database of its own, to migrate or leave empty."""
    with new_database(postgres_url, "doctor") as url:
        yield url


def test_a_schema_behind_or_ahead_of_the_code_is_named(
    env: dict[str, str], empty_database: str, tmp_path: Path
) -> None:
    env = env | {"EXSCHED_DATABASE_URL": empty_database, "EXSCHED_SECRET_KEY": SECRET}
    _, findings = doctor(env, tmp_path)
    [(status, empty)] = said(findings, "database")
    assert status == "fail" and "is empty" in empty
    db = Database(empty_database)
    upgrade(db)
    with db.engine.begin() as connection:  # a newer release's migration that keeps this code working
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed0001'"))
    _, findings = doctor(env, tmp_path)
    [(status, rolling)] = said(findings, "database")
    assert status == "warn" and "still works with this version" in rolling and "rolling upgrade" in rolling
    with db.engine.begin() as connection:  # … and one that does not
        connection.execute(text("UPDATE schema_compat SET oldest_code = 'f00dfeed0001'"))
    db.dispose()
    _, findings = doctor(env, tmp_path)
    [(status, ahead)] = said(findings, "database")
    assert status == "fail" and "migrated by a newer exsched (schema f00dfeed0001" in ahead


def test_a_broker_user_without_permissions_and_missing_queues_are_named(
    env: dict[str, str], pg: Database, amqp_url: str, tmp_path: Path
) -> None:
    vhost, user, password = f"exsched-doctor-{uuid.uuid4().hex[:6]}", f"doctor-{uuid.uuid4().hex[:6]}", "pw"

    def rabbitmqctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)

    parts = urlsplit(amqp_url)
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("add_user", user, password)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, parts.username or "guest", ".*", ".*", ".*")
        admin_url = urlunsplit(parts._replace(path=f"/{vhost}"))
        env = env | {"EXSCHED_SECRET_KEY": SECRET, "EXSCHED_AMQP_URL": admin_url}
        _, findings = doctor(env, tmp_path)
        assert ("warn", f"missing on the broker: exsched.notices, exsched.dead, {', '.join(QUEUES)}") in said(
            findings, "broker"
        )
        RabbitBus(admin_url).declare()
        # a user that may write and read exsched's names but not configure them
        rabbitmqctl("set_permissions", "-p", vhost, user, "^$", "^exsched\\.", "^exsched\\.")
        limited = urlunsplit(
            parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port}", path=f"/{vhost}")
        )
        _, findings = doctor(env | {"EXSCHED_AMQP_URL": limited}, tmp_path)
        broker = said(findings, "broker")
        assert len(broker) == 3, broker
        assert broker[1][0] == "ok"  # the topology is there
        assert (
            broker[2][0] == "fail"
            and "may not declare a queue" in broker[2][1]
            and "configure" in broker[2][1]
        )
        rabbitmqctl("set_permissions", "-p", vhost, user, "^exsched\\.", "^exsched\\.", "^exsched\\.")
        _, findings = doctor(env | {"EXSCHED_AMQP_URL": limited}, tmp_path)
        assert [s for s, _ in said(findings, "broker")] == ["ok", "ok", "ok"]
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, timeout=60)
        subprocess.run(["rabbitmqctl", "-q", "delete_user", user], capture_output=True, timeout=60)


QUEUES = ["exsched.dead-letters", "exsched.invitations", "exsched.reminders", "exsched.followups"]
