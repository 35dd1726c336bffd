"""``exsched``: the command line, and the composition root that starts processes."""

from __future__ import annotations

import signal
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import pika.exceptions
import structlog
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.bus.base import Bus
from scheduler.db.migrate import current_revision, head_revision, schema_state, upgrade
from scheduler.db.models import ApiKeyRow
from scheduler.db.session import Database
from scheduler.domain import webhooks
from scheduler.domain.auth import Principal, create_api_key
from scheduler.domain.errors import ExschedError
from scheduler.notices.planner import request_plan
from scheduler.ops.backoff import Backoff
from scheduler.ops.clock import utcnow
from scheduler.ops.config import Settings, get_settings, served_url
from scheduler.ops.logs import configure_logging
from schemas.api import WebhookCreate
from schemas.names import Chapter, RobotFormat, Role

app = typer.Typer(
    help="exsched: recurring exchange sessions, invitations and calendar feeds.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
key_app = typer.Typer(help="Staff API keys.", no_args_is_help=True)
hook_app = typer.Typer(
    help="Chapter chat-group webhooks (WeCom, DingTalk, Feishu, generic).", no_args_is_help=True
)
serve_app = typer.Typer(help="Run a service.", no_args_is_help=True)
staff_app = typer.Typer(help="Console accounts for association staff.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(key_app, name="apikey")
app.add_typer(hook_app, name="webhook")
app.add_typer(serve_app, name="serve")
app.add_typer(staff_app, name="staff")

if TYPE_CHECKING:
    from scheduler.notices.jobs import SchedulerService

log = structlog.get_logger("exsched")


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    return settings


def _database(settings: Settings, *, pre_ping: bool = True) -> Database:
    try:
        return Database(settings.database_url, pre_ping=pre_ping)
    except Exception as exc:  # an unparseable URL or a missing driver
        _fail(f"cannot use EXSCHED_DATABASE_URL={settings.database_url!r}: {exc}")


def _require_migrated(db: Database) -> None:
    """Refuse to work on a schema this code does not fit: empty, older, or newer and not
    declaring this code compatible. A newer one that does (a rolling upgrade) is said once."""
    try:
        found = schema_state(db)
    except Exception as exc:
        _fail(f"cannot reach the database: {exc}")
    if not found.runnable:
        _fail(found.problem())
    if found.state == "newer":
        log.warning(
            "schema_newer_than_code",
            schema=found.current,
            code=found.head,
            works_from=found.oldest_code,
            hint="a rolling upgrade: restart this process on the new release soon",
        )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version (safe to repeat)."""
    db = _database(_settings())
    try:
        upgrade(db)
    except Exception as exc:
        _fail(f"migration failed: {exc}")
    typer.echo(f"database at revision {current_revision(db)}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema's revision and the newest one this version knows."""
    db = _database(_settings())
    typer.echo(f"current: {current_revision(db) or 'none'}  head: {head_revision(db)}")


@db_app.command("backup")
def db_backup(
    to: Annotated[Path, typer.Option("--to", help="folder the copies are kept in")] = Path("var/backups"),
    keep_days: Annotated[int, typer.Option(help="remove copies older than this", min=1)] = 14,
) -> None:
    """A consistent copy of the database (pg_dump, or SQLite's backup), read back before it counts."""
    from scheduler.db.backup import BackupError, backup

    db = _database(_settings())
    try:
        made = backup(db, to, keep_days=keep_days)
    except BackupError as exc:
        _fail(str(exc), 1)
    typer.echo(f"backup: {made.path} ({_size(made.size)}, {made.seconds:.1f} s; {made.checked})")
    for old in made.removed:
        typer.echo(f"removed: {old} (older than {keep_days} days)")


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="a copy made by `exsched db backup`")],
) -> None:
    """Load a backup into the (empty) database of EXSCHED_DATABASE_URL, migrate it, and put the
    notices that were in flight back to pending."""
    from scheduler.db.backup import BackupError, restore
    from scheduler.notices import store

    db = _database(_settings())
    try:
        seconds = restore(db, file)
    except BackupError as exc:
        _fail(str(exc), 1)
    upgrade(db)
    with db.session() as session:
        again = store.restored(session, utcnow())
        counts = {status: 0 for status in ("sent", "pending")}
        for _, status, n in store.counts_by_kind_and_status(session):
            counts[status] = counts.get(status, 0) + n
    typer.echo(f"restored {file} in {seconds:.1f} s; schema at {current_revision(db)}")
    typer.echo(
        f"notices: {counts['sent']} sent before the backup (never sent again), {counts['pending']} owed"
        f" (of which {len(again)} were in flight at the backup: they go out again, so a member may"
        " get one twice if it left after the backup)"
    )


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    scaled = float(size)
    for unit in ("kB", "MB"):
        scaled /= 1000
        if scaled < 1000:
            return f"{scaled:.1f} {unit}"
    return f"{scaled / 1000:.1f} GB"


@key_app.command("create")
def apikey_create(
    role: Annotated[Role, typer.Option(help="admin (every chapter) or chapter")],
    chapter: Annotated[Chapter | None, typer.Option(help="the chapter of a chapter key")] = None,
    name: Annotated[str, typer.Option(help="who or what the key is for")] = "",
) -> None:
    """Create a key; its secret is printed once, as the last line."""
    db = _database(_settings())
    _require_migrated(db)
    try:
        with db.session() as session:
            row, secret = create_api_key(session, role=role, chapter=chapter, name=name)
            key_id = row.id
    except ExschedError as exc:
        _fail(exc.message)
    typer.echo(f"created {role.value} key {key_id}" + (f" for chapter {chapter.value}" if chapter else ""))
    typer.echo("store it now; it cannot be shown again:")
    typer.echo(secret)


@key_app.command("list")
def apikey_list() -> None:
    """List keys (never their secrets)."""
    db = _database(_settings())
    _require_migrated(db)
    with db.session() as session:
        for row in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)):
            state = "revoked" if row.revoked_at else "active"
            typer.echo(
                f"{row.id}  {row.prefix}…  {row.role:<7} {row.chapter or '-':<9} {state:<8} {row.name}"
            )


@key_app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="the key's id or its printed prefix")]) -> None:
    """Revoke a key at once."""
    db = _database(_settings())
    _require_migrated(db)
    with db.session() as session:
        rows = [r for r in session.scalars(select(ApiKeyRow)) if str(r.id) == key_id or r.prefix == key_id]
        if len(rows) != 1:
            _fail(f"no single key matches {key_id!r}; see `exsched apikey list`")
        rows[0].revoked_at = rows[0].revoked_at or datetime.now(UTC)
    typer.echo(f"revoked {key_id}")


def _password(from_stdin: bool) -> str:
    """A password from standard input (for scripts) or typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="sign-in name: a-z, 0-9, '.', '_', '-'")],
    role: Annotated[Role, typer.Option(help="admin (province office, every chapter) or chapter")],
    chapter: Annotated[Chapter | None, typer.Option(help="the chapter of chapter staff")] = None,
    name: Annotated[str, typer.Option(help="name shown in the console")] = "",
    email: Annotated[str, typer.Option(help="where the monthly digest goes (none if empty)")] = "",
    password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
) -> None:
    """Create a console account (the password is hashed with Argon2id, never stored)."""
    from scheduler.domain.staff import create_staff, set_email

    db = _database(_settings())
    _require_migrated(db)
    password = _password(password_stdin)
    try:
        with db.session() as session:
            row = create_staff(
                session, username=username, password=password, role=role, chapter=chapter, display_name=name
            )
            set_email(row, email)
            where = f" for chapter {row.chapter}" if row.chapter else ""
            typer.echo(f"created {row.role} account {row.username}{where}")
    except ExschedError as exc:
        _fail(exc.message)


@staff_app.command("list")
def staff_list() -> None:
    """List console accounts."""
    from scheduler.db.models import StaffRow

    db = _database(_settings())
    _require_migrated(db)
    from scheduler.domain.staff import locked_until

    now = datetime.now(UTC)
    with db.session() as session:
        for row in session.scalars(select(StaffRow).order_by(StaffRow.username)):
            lock = locked_until(session, row.username, now)
            state = "disabled" if row.disabled_at else f"locked until {lock:%H:%M} UTC" if lock else "active"
            last = f"{row.last_login_at:%Y-%m-%d %H:%M}" if row.last_login_at else "never"
            chapter = row.chapter or "-"
            fields = (
                row.username,
                row.role,
                chapter,
                state,
                f"last sign-in {last}",
                row.display_name,
                row.email or "-",
            )
            typer.echo("\t".join(fields))


def _change_staff(username: str, change: Callable[[Session, Any], None]) -> None:
    """Apply ``change`` to one console account, or say clearly why not."""
    from scheduler.domain.staff import get_staff

    db = _database(_settings())
    _require_migrated(db)
    try:
        with db.session() as session:
            change(session, get_staff(session, username))
    except ExschedError as exc:
        _fail(exc.message)


@staff_app.command("passwd")
def staff_passwd(
    username: str,
    password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
) -> None:
    """Set a new password (ends the account's open sessions, lifts a lock)."""
    from scheduler.domain.staff import set_password

    password = _password(password_stdin)
    _change_staff(username, lambda session, row: set_password(session, row, password))
    typer.echo(f"password of {username} changed; its sessions have ended")


@staff_app.command("email")
def staff_email(
    username: str,
    address: Annotated[str, typer.Argument(help="where the monthly digest goes; '' for none")],
) -> None:
    """Set (or clear) the address an account's monthly digest goes to."""
    from scheduler.domain.staff import set_email

    _change_staff(username, lambda _, row: set_email(row, address))
    typer.echo(f"digest of {username}: {address.strip().lower() or 'none'}")


@staff_app.command("disable")
def staff_disable(username: str) -> None:
    """Stop an account from signing in (ends its open sessions)."""
    from scheduler.domain.staff import disable

    _change_staff(username, lambda _, row: disable(row, datetime.now(UTC)))
    typer.echo(f"disabled {username}")


@staff_app.command("enable")
def staff_enable(username: str) -> None:
    """Let a disabled account sign in again, and lift a lock on its name (too many wrong passwords)."""
    from scheduler.domain.staff import enable

    _change_staff(username, enable)
    typer.echo(f"enabled {username}")


ADMIN = Principal(role=Role.ADMIN)


@hook_app.command("add")
def webhook_add(
    chapter: Annotated[Chapter, typer.Option(help="the chapter whose group it is")],
    format: Annotated[RobotFormat, typer.Option("--format", help="the chat platform")],
    url: Annotated[str, typer.Option(help="the robot's webhook URL")],
    secret: Annotated[str | None, typer.Option(help="signing secret (DingTalk, Feishu, generic)")] = None,
    reminders: Annotated[bool, typer.Option(help="also post one reminder per session")] = True,
) -> None:
    """Post new sessions, changes and cancellations (and reminders) of a chapter to a chat group."""
    from pydantic import ValidationError

    settings = _settings()
    db = _database(settings)
    _require_migrated(db)
    try:
        body = WebhookCreate(format=format, url=url, secret=secret, reminders=reminders)
        with db.session() as session:
            row = webhooks.create_webhook(
                session, ADMIN, chapter, body, local_ok=settings.robot_local_targets
            )
            request_plan(session, chapters=[chapter])
            hook_id = row.id
    except ValidationError as exc:
        _fail("; ".join(f"--{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    except ExschedError as exc:
        _fail(exc.message)
    typer.echo(f"added {format.value} webhook {hook_id} for chapter {chapter.value}")


@hook_app.command("list")
def webhook_list() -> None:
    """List webhooks (their URLs and secrets are not shown)."""
    db = _database(_settings())
    _require_migrated(db)
    with db.session() as session:
        for row in webhooks.list_webhooks(session, ADMIN):
            state = "enabled" if row.enabled else "disabled"
            events = ",".join(row.events)
            typer.echo(
                f"{row.id}  {row.chapter:<9} {row.format:<8} {state:<8} {events}  {webhooks.host_of(row)}"
            )


@hook_app.command("remove")
def webhook_remove(hook_id: Annotated[str, typer.Argument(help="the webhook's id")]) -> None:
    """Remove a webhook; its pending posts are dropped with it."""
    db = _database(_settings())
    _require_migrated(db)
    try:
        key = uuid.UUID(hook_id)
    except ValueError:
        _fail(f"{hook_id!r} is not a webhook id; see `exsched webhook list`")
    try:
        with db.session() as session:
            row = webhooks.get_webhook(session, ADMIN, key)
            chapter = row.chapter
            webhooks.remove_webhook(session, row)
            request_plan(session, chapters=[chapter])
    except ExschedError:
        _fail(f"no webhook {hook_id}; see `exsched webhook list`")
    typer.echo(f"removed webhook {hook_id}")


def _serving(settings: Settings, host: str | None, port: int | None) -> Settings:
    """The settings of a process that serves HTTP on the address given (or configured)."""
    served = settings.serving(host or settings.api_host, port or settings.api_port)
    if served.public_url_derived:
        log.info("public_url_from_address", public_url=served.public_url, hint="set EXSCHED_PUBLIC_URL")
    return served


def _run_api(settings: Settings, db: Database, plan_signal: Callable[[], None] | None = None) -> None:
    import uvicorn

    from scheduler.web.app import create_app
    from workers.channels import mail_channel
    from workers.channels.chat import ChatGroupChannel

    if settings.uses_dev_secret:
        log.warning("dev_secret_key", hint="set EXSCHED_SECRET_KEY to a long random value in production")
    app = create_app(
        settings,
        db,
        plan_signal=plan_signal,
        robot_tester=ChatGroupChannel(local_ok=settings.robot_local_targets).test_robot,
        postman=mail_channel(settings).post,
    )
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=False)


@serve_app.command("api")
def serve_api(
    host: Annotated[str | None, typer.Option(help="listen address (EXSCHED_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (EXSCHED_API_PORT)")] = None,
) -> None:
    """Serve the HTTP API (the schema must be migrated: `exsched db upgrade`)."""
    settings = _serving(_settings(), host, port)
    db = _database(settings)
    _require_migrated(db)
    _run_api(settings, db)


def _bus(settings: Settings) -> Bus:
    from scheduler.bus.memory import InProcessBus
    from scheduler.bus.rabbitmq import RabbitBus

    if settings.amqp_url:
        return RabbitBus(settings.amqp_url, window=settings.publish_window)
    return InProcessBus()


def _start_scheduler(
    settings: Settings, db: Database, bus: Bus, stop: threading.Event
) -> SchedulerService | None:
    """Start planner and dispatcher; wait (with backoff) for a broker that is not up yet."""
    from scheduler.domain.holidays import ChineseStatutoryCalendar
    from scheduler.notices.jobs import SchedulerService

    service = SchedulerService(settings, db, bus, ChineseStatutoryCalendar())
    backoff = Backoff(cap=15)
    while not stop.is_set():
        try:
            service.start()
            return service
        except pika.exceptions.AMQPError as exc:
            delay = backoff.next()
            log.warning("broker_unreachable", error=repr(exc), retry_in=round(delay, 1))
            stop.wait(delay)
    return None


def _process_endpoint(settings: Settings, db: Database, bus: Bus | None) -> None:
    """/metrics, /healthz and /readyz on EXSCHED_METRICS_PORT, when it is set (queue depths
    where the process has a bus)."""
    from prometheus_client.registry import Collector

    from scheduler.notices import store
    from scheduler.ops.metrics import (
        NoticeCollector,
        QueueDepthCollector,
        broker_ready,
        database_ready,
        serve_process_endpoint,
    )
    from schemas.bus import DEAD_QUEUE, ROLES, queue_name

    if settings.metrics_port is None:
        return
    collectors: list[Collector] = [NoticeCollector(store.counter(db))]
    if bus is not None:
        queues = [*(queue_name(r) for r in ROLES), DEAD_QUEUE]
        collectors.append(QueueDepthCollector(bus.queue_depth, queues))
    amqp_url = settings.amqp_url if bus is not None else None
    serve_process_endpoint(
        settings.metrics_port,
        lambda: [p for p in (database_ready(db.engine), broker_ready(amqp_url)) if p],
        collectors,
    )


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        log.info("shutdown_requested", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


@serve_app.command("scheduler")
def serve_scheduler() -> None:
    """Planner and dispatcher, publishing to RabbitMQ (EXSCHED_AMQP_URL). Several may run at once."""
    settings = _settings()
    db = _database(settings)
    _require_migrated(db)
    if not settings.amqp_url:
        _fail(
            "`exsched serve scheduler` publishes to RabbitMQ: set EXSCHED_AMQP_URL. Without a broker, "
            "run everything in one process with `exsched serve all`."
        )
    bus = _bus(settings)
    stop = _stop_on_signals()
    _process_endpoint(settings, db, bus)
    service = _start_scheduler(settings, db, bus, stop)
    try:
        stop.wait()
    finally:
        if service is not None:
            service.stop()
        bus.close()


@serve_app.command("worker")
def serve_worker(
    kinds: Annotated[
        str | None, typer.Option(help="comma-separated notice kinds, e.g. invitation,reminder (default: all)")
    ] = None,
) -> None:
    """Send notices from RabbitMQ by SMTP (EXSCHED_SMTP_URL) or into the file outbox."""
    from scheduler.domain.holidays import ChineseStatutoryCalendar
    from schemas.names import NoticeKind
    from workers.consumers import WorkerService, roles_for

    settings = _settings()
    db = _database(settings, pre_ping=False)  # (a lost connection: the handler waits, then again)
    _require_migrated(db)
    if not settings.amqp_url:
        _fail(
            "`exsched serve worker` consumes from RabbitMQ: set EXSCHED_AMQP_URL. Without a broker, "
            "run everything in one process with `exsched serve all`."
        )
    wanted = [k.strip() for k in kinds.split(",") if k.strip()] if kinds else []
    unknown = [k for k in wanted if k not in {n.value for n in NoticeKind}]
    if unknown:
        _fail(f"unknown notice kind(s) {', '.join(unknown)}; use {', '.join(n.value for n in NoticeKind)}")
    try:
        workers = WorkerService(
            settings, db, _bus(settings), ChineseStatutoryCalendar(), roles=roles_for(wanted)
        )
    except ValueError as exc:  # an unusable EXSCHED_SMTP_URL
        _fail(str(exc))
    stop = _stop_on_signals()
    _process_endpoint(settings, db, workers.bus)
    workers.start()
    try:
        stop.wait()
    finally:
        workers.stop()


def _serve_embedded(settings: Settings, db: Database) -> None:
    """API, scheduler and workers in one process, on RabbitMQ if configured, else in-process."""
    from scheduler.domain.holidays import ChineseStatutoryCalendar
    from workers.consumers import WorkerService

    bus = _bus(settings)
    stop = threading.Event()
    service = _start_scheduler(settings, db, bus, stop)
    workers = WorkerService(settings, db, bus, ChineseStatutoryCalendar())
    workers.start()
    try:
        _run_api(settings, db, plan_signal=service.wake_planner if service else None)
    finally:
        stop.set()
        if service is not None:
            service.stop()
        workers.stop()
        bus.close()


@serve_app.command("inbound")
def serve_inbound() -> None:
    """Take in the mail that comes back (calendar apps' replies): by LMTP or SMTP on
    EXSCHED_INBOUND_LISTEN, and/or from a hosted mailbox by IMAP (EXSCHED_INBOUND_IMAP_URL)."""
    from scheduler.domain.holidays import ChineseStatutoryCalendar
    from scheduler.inbound.listener import Listener, listen_address
    from scheduler.inbound.mailbox import Mailbox, poll_forever

    settings = _settings()
    db = _database(settings)
    _require_migrated(db)
    if not settings.inbound_listen and not settings.inbound_imap_url:
        _fail(
            "`exsched serve inbound` needs EXSCHED_INBOUND_LISTEN (e.g. 127.0.0.1:2525, for an MTA) "
            "or EXSCHED_INBOUND_IMAP_URL (e.g. imaps://user:password@imap.example.com/INBOX)"
        )
    try:
        address = listen_address(settings.inbound_listen) if settings.inbound_listen else None
        mailbox = Mailbox.from_url(settings.inbound_imap_url) if settings.inbound_imap_url else None
    except ValueError as exc:
        _fail(str(exc))
    stop = _stop_on_signals()
    holidays = ChineseStatutoryCalendar()
    listener = None
    if address is not None:
        listener = Listener(db, holidays, *address, lmtp=settings.inbound_protocol == "lmtp")
        listener.start()
        log.info("inbound_listening", host=address[0], port=address[1], protocol=settings.inbound_protocol)
    poller = None
    if mailbox is not None:
        args = (db, holidays, mailbox, settings.inbound_imap_poll_seconds, stop)
        poller = threading.Thread(target=poll_forever, args=args, name="imap-poller", daemon=True)
        poller.start()
        log.info("inbound_reading_mailbox", host=mailbox.host, folder=mailbox.folder)
    _process_endpoint(settings, db, None)
    try:
        stop.wait()
    finally:
        if listener is not None:
            listener.stop()
        if poller is not None:
            poller.join(timeout=30)


@serve_app.command("all")
def serve_all(
    host: Annotated[str | None, typer.Option(help="listen address")] = None,
    port: Annotated[int | None, typer.Option(help="listen port")] = None,
) -> None:
    """API, planner, dispatcher and workers in one process."""
    settings = _serving(_settings(), host, port)
    db = _database(settings)
    _require_migrated(db)
    _serve_embedded(settings, db)


@app.command()
def doctor(
    mail_loop: Annotated[
        bool,
        typer.Option(
            "--mail-loop",
            help="also send a test mail to the reply and bounce addresses; wait for `serve inbound`",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="the findings as JSON, for scripts")] = False,
) -> None:
    """Check this environment's configuration before it goes live: what is wrong and how to fix it.
    Exit status 1 when something must be fixed, 0 otherwise (warnings included)."""
    import json
    import logging
    import shutil

    from scheduler.doctor import examine, render

    settings = get_settings()
    configure_logging(settings.log_format, "ERROR")
    logging.getLogger("pika").setLevel(logging.CRITICAL)  # a refused check is a finding, not a log line
    found = examine(settings, mail_loop=mail_loop)
    if as_json:
        typer.echo(json.dumps([f.as_dict() for f in found], ensure_ascii=False, indent=2))
    else:
        typer.echo("exsched doctor: the configuration in this environment (EXSCHED_…)\n")
        typer.echo(render(found, min(shutil.get_terminal_size((100, 24)).columns, 110)))
    raise typer.Exit(1 if any(f.status == "fail" for f in found) else 0)


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="listen address")] = None,
    port: Annotated[int | None, typer.Option(help="listen port")] = None,
    serve: Annotated[bool, typer.Option(help="start serving after seeding")] = True,
) -> None:
    """Migrate, seed the seven chapters with sample series and members, and serve."""
    from scheduler.demo import MEMBERS, seed

    settings = _serving(_settings(), host, port)
    db = _database(settings)
    upgrade(db)
    with db.session() as session:
        report = seed(session, settings)
    # where to look from this machine; the links inside emails and feeds use the public URL
    base = served_url(settings.api_host, settings.api_port)
    webcal = "webcal://" + base.split("://", 1)[1]
    today = datetime.now(UTC).date()
    window = f"start={today.isoformat()}&end={today.replace(year=today.year + 1).isoformat()}"
    outbox = settings.outbox_dir.resolve()

    def at(instant: datetime) -> str:
        return instant.astimezone().strftime("%H:%M:%S")

    lines = [
        "",
        f"exsched demo: {report.series} series, {report.members} members in {settings.database_url}",
        "",
        "  Within a minute, watch the outbox fill with real emails (.eml, open them in any mail client):",
        "    now            invitation with its calendar (iMIP REQUEST + invite.ics)",
        f"    ~{at(report.showcase_reminder)}      reminder (session starts {at(report.showcase_start)})",
        f"    ~{at(report.showcase_followup)}      follow-up after the session",
        "    now            last month's digest to the demo staff (figures, next sessions, .xlsx attached)",
        f"  outbox           {outbox}",
        "",
        f"  sessions page    {base}/",
        f"  member page      {base}/me   (sign in as {MEMBERS[0][1]}: the link lands in the outbox)",
        f"  join a chapter   {base}/join",
        f"  staff console    {base}/console",
        f"                   accounts admin (province), ningbo (chapter); password {report.console_password}",
        f"  API docs         {base}/docs",
        f"  series           {base}/api/v1/series",
        f"  occurrences      {base}/api/v1/series/{report.example_series}/occurrences?{window}",
        f"  Ningbo feed      {base}/calendars/chapters/ningbo.ics   ({webcal}/calendars/chapters/ningbo.ics)",
        f"  admin key        {report.admin_key}",
        f"  try              curl -H 'Authorization: Bearer {report.admin_key}' {base}/api/v1/notices",
        "",
    ]
    typer.echo("\n".join(lines))
    sys.stdout.flush()
    if serve:
        _serve_embedded(settings, db)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
