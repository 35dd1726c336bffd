"""A broker node's death cuts a connection mid-write: pika's error with a traceback becomes one
warning line (the cluster fault test reads the logs for tracebacks)."""

from __future__ import annotations

import io
import json
import logging

from scheduler.ops.logs import configure_logging


def test_a_socket_lost_under_pika_is_one_warning_line_and_other_errors_keep_their_traceback() -> None:
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("json", "INFO", stream=out)
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError:
            logging.getLogger("pika.adapters.utils.io_services_utils").exception("produce failed")
        try:
            raise ValueError("a bug")
        except ValueError:
            logging.getLogger("pika.adapters.blocking_connection").exception("something else")
    finally:
        configure_logging()  # as the other tests had it: the console renderer, to stderr
        root.handlers[:], root.level = handlers, level
    lost, bug = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lost["level"] == "warning" and "Connection reset by peer" in lost["event"]
    assert "Traceback" not in json.dumps(lost)
    assert bug["level"] == "error" and "Traceback" in json.dumps(bug)
