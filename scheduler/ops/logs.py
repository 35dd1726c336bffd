"""structlog set-up: console lines for people, JSON lines for production collectors."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

#: Up to this many notices, a batch (a plan, a dispatch) logs a line per notice at INFO, so one
#: notice's life can be followed from planned to sent; a bigger one logs one line for the batch
#: and each notice at DEBUG (10,000 lines cost more than the work they describe).
PER_NOTICE_LINES = 200


def configure_logging(fmt: str = "console", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Route structlog and the standard library's loggers through one renderer (to stderr)."""
    stream = stream or sys.stderr
    renderer: structlog.types.Processor
    extra: list[structlog.types.Processor] = []
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
        extra = [structlog.processors.format_exc_info]
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Our own lines skip the standard library's logging machinery (a third of the cost of a
    # line); libraries that log through it (uvicorn, alembic, pika) get the same renderer.
    structlog.configure(
        processors=[*shared, *extra, renderer],
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *extra, renderer],
            foreign_pre_chain=shared,
        )
    )
    handler.addFilter(SocketLossFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for chatty in ("pika", "apscheduler"):  # connection and per-run chatter at INFO
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


class SocketLossFilter(logging.Filter):
    """A connection that a broker node's death cuts mid-write is expected (the consumer moves to
    another node): pika logs it as an error with a full traceback; it becomes one warning line
    naming the error, like every other lost connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.name.startswith("pika.") and isinstance(error, ConnectionError):
            record.msg, record.args = "socket lost: %r", (error,)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True
