"""The exsched command as users run it: real processes, real HTTP, the README's flows."""

from __future__ import annotations

import os
import re
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest

from scheduler.db.session import Database
from tests.support.api import series_body
from tests.support.processes import free_port, output_of, run, serving

pytestmark = pytest.mark.acceptance


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = dict(os.environ)
    values.update(
        EXSCHED_DATABASE_URL=f"sqlite:///{tmp_path / 'exsched.db'}", EXSCHED_PUBLIC_URL="https://exsched.test"
    )
    return values


def test_upgrade_create_key_and_serve_api(env: dict[str, str], tmp_path: Path, db: Database) -> None:
    env["EXSCHED_DATABASE_URL"] = db.url
    upgraded = run(["db", "upgrade"], env, tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    from scheduler.db.migrate import head_revision

    assert f"database at revision {head_revision(db)}" in upgraded.stdout
    made = run(
        ["apikey", "create", "--role", "chapter", "--chapter", "ningbo", "--name", "宁波秘书处"],
        env,
        tmp_path,
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("exs_")
    listed = run(["apikey", "list"], env, tmp_path)
    assert "chapter" in listed.stdout and "ningbo" in listed.stdout and key not in listed.stdout

    port = free_port()
    with serving(["serve", "api", "--port", str(port)], env, tmp_path, port):
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {key}"}
        created = httpx.post(f"{base}/api/v1/series", json=series_body(), headers=headers)
        assert created.status_code == 201, created.text
        assert (
            httpx.post(f"{base}/api/v1/series", json=series_body(chapter="yiwu"), headers=headers).status_code
            == 403
        )
        listed_series = httpx.get(f"{base}/api/v1/series").json()
        assert [s["id"] for s in listed_series] == [created.json()["id"]]
        revoked = run(["apikey", "revoke", key[:12]], env, tmp_path)
        assert revoked.returncode == 0, revoked.stderr
        assert httpx.post(f"{base}/api/v1/series", json=series_body(), headers=headers).status_code == 401


def test_serve_api_refuses_an_unmigrated_database(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["serve", "api", "--port", str(free_port())], env, tmp_path)
    assert result.returncode == 2
    assert "run `exsched db upgrade` first" in result.stderr


def test_a_newer_schema_is_worked_on_only_when_it_says_this_code_fits(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A rolling upgrade: a newer release migrated the database; a process of this release may
    (re)start on it while the schema's ``schema_compat`` names a revision this code knows."""
    from sqlalchemy import create_engine, text

    assert run(["db", "upgrade"], env, tmp_path).returncode == 0
    engine = create_engine(env["EXSCHED_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed0002'"))
    listed = run(["apikey", "list"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "schema_newer_than_code" in listed.stdout + listed.stderr
    with engine.begin() as connection:
        connection.execute(text("UPDATE schema_compat SET oldest_code = 'f00dfeed0002'"))
    engine.dispose()
    refused = run(["apikey", "list"], env, tmp_path)
    assert refused.returncode != 0
    assert "migrated by a newer exsched that works only with code from f00dfeed0002 on" in refused.stderr


def test_worker_without_a_broker_or_with_unknown_kinds_says_what_is_wrong(
    env: dict[str, str], tmp_path: Path
) -> None:
    run(["db", "upgrade"], env, tmp_path)
    env.pop("EXSCHED_AMQP_URL", None)
    result = run(["serve", "worker"], env, tmp_path)
    assert result.returncode == 2 and "set EXSCHED_AMQP_URL" in result.stderr
    env["EXSCHED_AMQP_URL"] = "amqp://guest:guest@127.0.0.1:1/"
    result = run(["serve", "worker", "--kinds", "invitation,party"], env, tmp_path)
    assert result.returncode == 2 and "unknown notice kind(s) party" in result.stderr


def test_scheduler_without_a_broker_url_says_what_to_set(env: dict[str, str], tmp_path: Path) -> None:
    run(["db", "upgrade"], env, tmp_path)
    env.pop("EXSCHED_AMQP_URL", None)
    result = run(["serve", "scheduler"], env, tmp_path)
    assert result.returncode == 2 and "set EXSCHED_AMQP_URL" in result.stderr


def test_chapter_key_without_chapter_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    run(["db", "upgrade"], env, tmp_path)
    result = run(["apikey", "create", "--role", "chapter"], env, tmp_path)
    assert result.returncode == 2 and "needs --chapter" in result.stderr


def test_bad_database_url_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    env["EXSCHED_DATABASE_URL"] = "nosuchdb://x"
    result = run(["db", "upgrade"], env, tmp_path)
    assert result.returncode == 2 and "EXSCHED_DATABASE_URL" in result.stderr


def wait_for_notices(db: Database, timeout: float) -> dict[str, int]:
    from sqlalchemy import func, select

    from scheduler.db.models import NoticeRow

    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        with db.session() as session:
            counts = dict(
                session.execute(select(NoticeRow.status, func.count()).group_by(NoticeRow.status)).all()
            )
        if counts.get("sent"):
            break
        time.sleep(0.5)
    db.dispose()
    return counts


def test_demo_seeds_every_chapter_and_serves_the_series(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    with serving(["demo", "--port", str(port)], env, tmp_path, port) as proc:
        base = f"http://127.0.0.1:{port}"
        series = httpx.get(f"{base}/api/v1/series").json()
        assert {s["chapter"] for s in series} == {
            "province",
            "wenzhou",
            "ningbo",
            "jiaxing",
            "yiwu",
            "taizhou",
            "huzhou",
            "shaoxing",
        }
        assert {s["kind"] for s in series} == {"project-docking", "tech-exchange"}
        statuses = wait_for_notices(Database(env["EXSCHED_DATABASE_URL"]), timeout=60)
        assert statuses.get("sent"), f"the embedded scheduler and workers sent invitations: {statuses}"
        outbox = sorted((tmp_path / "var" / "outbox").glob("*.eml"))
        assert len(outbox) == statuses["sent"], "one .eml in the outbox per notice sent"
        proc.terminate()
        output = output_of(proc)
    key = next(line.split()[-1] for line in output.splitlines() if line.strip().startswith("admin key"))
    assert f"{base}/docs" in output

    port = free_port()  # a second run keeps the data, adds a fresh showcase session, makes a new key
    with serving(["demo", "--port", str(port)], env, tmp_path, port):
        base = f"http://127.0.0.1:{port}"
        again = httpx.get(f"{base}/api/v1/series").json()
        assert len(again) == len(series) + 1
        assert {s["id"] for s in series} < {s["id"] for s in again}
        assert (
            httpx.get(f"{base}/api/v1/members", headers={"Authorization": f"Bearer {key}"}).status_code == 401
        )


def test_make_demo_fills_the_outbox_with_every_kind_of_email_within_a_minute(
    env: dict[str, str], tmp_path: Path
) -> None:
    import email
    import email.policy

    repo = Path(__file__).resolve().parents[2]
    port = free_port()
    env = env | {"EXSCHED_OUTBOX_DIR": str(tmp_path / "outbox"), "EXSCHED_API_PORT": str(port)}
    proc = subprocess.Popen(
        ["make", "-C", str(repo), "demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 75
        wanted = {"【邀请】", "【提醒】", "【会后】", "月报"}
        while time.monotonic() < deadline and not wanted <= seen:
            for path in (tmp_path / "outbox").glob("*.eml"):
                mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if "演示" in mail.get_body(preferencelist=("plain",)).get_content():
                    seen.add(str(mail["Subject"])[:4])
                if (
                    str(mail["Subject"]).endswith("月报")
                    and mail["To"].addresses[0].domain == "zj-garment.example"
                ):
                    seen.add("月报")  # last month's digest to the demo staff, with its .xlsx
                    assert any(p.get_filename().endswith(".xlsx") for p in mail.iter_attachments())
            time.sleep(0.5)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
    finally:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert {"【邀请】", "【提醒】", "【会后】", "月报"} <= seen, (
        f"showcase emails seen: {seen}\n{output[-2000:]}"
    )
    assert "watch the outbox fill" in output and str(tmp_path / "outbox") in output
    assert page.status_code == 200 and "宁波" in page.text and "webcal://" in page.text


def test_home_page_lists_upcoming_sessions_and_escapes_titles(env: dict[str, str], tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from scheduler.db.migrate import upgrade
    from scheduler.ops.config import Settings
    from scheduler.web.app import create_app
    from tests.support.api import create_series
    from tests.support.services import make_key

    db = Database(env["EXSCHED_DATABASE_URL"])
    upgrade(db)
    client = TestClient(create_app(Settings(database_url=db.url, public_url="https://exsched.test"), db))
    admin = make_key(db)
    soon = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    create_series(
        client, admin, title="<script>alert(1)</script> 交流", dtstart=f"{soon}T14:00:00", rrule=None
    )
    create_series(client, admin, title="内部会议", dtstart=f"{soon}T16:00:00", rrule=None, private=True)
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 交流" in page.text and "<script>alert" not in page.text
    assert "内部会议" not in page.text
    assert "webcal://exsched.test/calendars/chapters/ningbo.ics" in page.text


def test_staff_accounts_are_made_listed_and_managed_from_the_command_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert run(["db", "upgrade"], env, tmp_path).returncode == 0
    made = run(
        [
            "staff",
            "add",
            "chen.nb",
            "--role",
            "chapter",
            "--chapter",
            "ningbo",
            "--name",
            "陈宁",
            "--password-stdin",
        ],
        env,
        tmp_path,
        input="a long enough password\n",
    )
    assert made.returncode == 0, made.stderr
    assert "created chapter account chen.nb for chapter ningbo" in made.stdout
    for args, stdin, message in (
        (["staff", "add", "chen.nb", "--role", "admin", "--password-stdin"], "another long one\n", "already"),
        (
            ["staff", "add", "wang", "--role", "chapter", "--password-stdin"],
            "a long enough password\n",
            "--chapter",
        ),
        (
            ["staff", "add", "wang", "--role", "admin", "--password-stdin"],
            "short\n",
            "at least 10 characters",
        ),
        (["staff", "passwd", "nobody", "--password-stdin"], "a long enough password\n", "no staff account"),
    ):
        refused = run(args, env, tmp_path, input=stdin)
        assert refused.returncode == 2 and message in refused.stderr, (args, refused.stderr)
    assert run(["staff", "disable", "chen.nb"], env, tmp_path).returncode == 0
    listed = run(["staff", "list"], env, tmp_path).stdout
    assert listed.startswith("chen.nb\tchapter\tningbo\tdisabled\tlast sign-in never\t陈宁")
    assert run(["staff", "enable", "chen.nb"], env, tmp_path).returncode == 0
    changed = run(
        ["staff", "passwd", "chen.nb", "--password-stdin"], env, tmp_path, input="a new long password\n"
    )
    assert changed.returncode == 0 and "sessions have ended" in changed.stdout
    assert "\tactive\t" in run(["staff", "list"], env, tmp_path).stdout
    given = run(["staff", "email", "chen.nb", "Chen@NB.example"], env, tmp_path)
    assert given.returncode == 0 and "digest of chen.nb: chen@nb.example" in given.stdout
    assert run(["staff", "list"], env, tmp_path).stdout.rstrip().endswith("\tchen@nb.example")
    wrong = run(["staff", "email", "chen.nb", "chen at nb"], env, tmp_path)
    assert wrong.returncode == 2 and "not an email address" in wrong.stderr


def test_chapter_robots_are_added_listed_and_removed_from_the_command_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert run(["db", "upgrade"], env, tmp_path).returncode == 0
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret-key-in-the-url"
    added = run(["webhook", "add", "--chapter", "ningbo", "--format", "wecom", "--url", url], env, tmp_path)
    assert added.returncode == 0, added.stderr
    hook_id = added.stdout.split()[3]
    assert added.stdout.startswith(f"added wecom webhook {hook_id} for chapter ningbo")
    listed = run(["webhook", "list"], env, tmp_path).stdout
    row = f"{hook_id}  ningbo    wecom    enabled  new-session,reminder  qyapi.weixin.qq.com"
    assert listed.startswith(row)
    assert "secret-key-in-the-url" not in listed
    for args, message in (
        (["webhook", "add", "--chapter", "ningbo", "--format", "wecom", "--url", "ftp://x"], "http(s)"),
        (["webhook", "add", "--chapter", "ningbo", "--format", "slack", "--url", url], "slack"),
        (["webhook", "remove", "not-an-id"], "is not a webhook id"),
    ):
        refused = run(args, env, tmp_path)
        assert refused.returncode == 2 and message in refused.stderr, (args, refused.stderr)
    assert run(["webhook", "remove", hook_id], env, tmp_path).returncode == 0
    assert run(["webhook", "list"], env, tmp_path).stdout == ""
    gone = run(["webhook", "remove", hook_id], env, tmp_path)
    assert gone.returncode == 2 and "no webhook" in gone.stderr


def test_without_a_public_url_links_point_at_the_port_actually_served(
    env: dict[str, str], tmp_path: Path
) -> None:
    import email
    import email.policy

    port = free_port()
    env = {k: v for k, v in env.items() if k != "EXSCHED_PUBLIC_URL"} | {
        "EXSCHED_API_PORT": str(port),
        "EXSCHED_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    base = f"http://127.0.0.1:{port}"
    with serving(["demo"], env, tmp_path, port):
        page = httpx.get(f"{base}/").text
        assert f"webcal://127.0.0.1:{port}/calendars/chapters/ningbo.ics" in page
        assert all(s["uid"].endswith("@127.0.0.1") for s in httpx.get(f"{base}/api/v1/series").json())
        deadline, links = time.monotonic() + 60, []
        while time.monotonic() < deadline and not links:
            for path in (tmp_path / "outbox").glob("*.eml"):
                mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                text = mail.get_body(preferencelist=("plain",)).get_content()
                links += [url for url in re.findall(r"https?://\S+", text) if "/rsvp/" in url]
            time.sleep(0.5)
        assert links and all(link.startswith(f"{base}/rsvp/") for link in links), links[:2]
        assert httpx.get(links[0].replace("/rsvp/", "/rsvp/x")).status_code == 404  # the address answers


def test_backups_are_made_read_back_pruned_and_never_restored_over_data(
    env: dict[str, str], tmp_path: Path
) -> None:
    """On SQLite (the demo's database): the same commands as on PostgreSQL (tests/faults/test_backup.py)."""
    assert run(["db", "upgrade"], env, tmp_path).returncode == 0
    assert (
        run(
            ["staff", "add", "wang.li", "--role", "admin", "--password-stdin"],
            env,
            tmp_path,
            "Xq3-long-password\n",
        ).returncode
        == 0
    )
    folder = tmp_path / "backups"
    folder.mkdir()
    old, odd = folder / "exsched-20200101T000000Z.sqlite", folder / "exsched-keep-me.sqlite"
    old.write_bytes(b"an old copy")
    odd.write_bytes(b"not ours to judge")
    made = run(["db", "backup", "--to", str(folder), "--keep-days", "30"], env, tmp_path)
    assert made.returncode == 0, made.stderr
    assert "integrity_check ok" in made.stdout and f"removed: {old}" in made.stdout
    [copy] = [p for p in folder.glob("exsched-2*.sqlite")]
    assert not old.exists() and odd.exists()

    target = {**env, "EXSCHED_DATABASE_URL": f"sqlite:///{tmp_path / 'restored.db'}"}
    restored = run(["db", "restore", str(copy)], target, tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "0 sent before the backup" in restored.stdout
    listed = run(["staff", "list"], target, tmp_path)
    assert "wang.li" in listed.stdout  # the data came back
    refused = run(["db", "restore", str(copy)], target, tmp_path)
    assert (
        refused.returncode == 1
        and "is not empty" in refused.stderr
        and "restore into a new database" in refused.stderr
    )
    missing = run(["db", "restore", str(tmp_path / "nothing.dump")], target, tmp_path)
    assert missing.returncode == 1 and "no such file" in missing.stderr
