"""Prometheus metrics, and the small HTTP endpoint the scheduler and worker processes expose.

Counters and histograms are updated where things happen (dispatch, send); the notices-by-status
gauge and queue depths are read at scrape time, so they are never stale and cost nothing
between scrapes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from scheduler.ops.config import amqp_endpoints
from schemas.names import Channel

log = structlog.get_logger(__name__)

DISPATCH_LATENESS = Histogram(
    "exsched_dispatch_lateness_seconds",
    "How late a notice was published after its due time",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
PUBLISH_CONFIRM = Histogram(
    "exsched_publish_confirm_seconds",
    "Time for one batch from publish until the broker confirmed it",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PUBLISHED = Counter("exsched_notices_published_total", "Notices confirmed by the broker", ["kind"])
SEND_SECONDS = Histogram(
    "exsched_send_seconds",
    "Time to hand one notice to its channel",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SENT = Counter("exsched_notices_sent_total", "Notices the channel accepted", ["kind", "channel"])
SEND_FAILURES = Counter(
    "exsched_send_failures_total",
    "Sends that failed, by channel and whether they will be retried",
    ["channel", "retry"],
)
INBOUND_MAIL = Counter(
    "exsched_inbound_mail_total",
    "Mail taken in (calendar replies, bounces), by what became of it",
    ["outcome"],
)
FEED_ANSWERS = Counter(
    "exsched_feed_answers_total",
    "Calendar feeds served, by where the body came from: memory (no query), cache (checked, "
    "unchanged), render",
    ["source"],
)
FEED_EVICTIONS = Counter(
    "exsched_feed_evictions_total",
    "Rendered feeds dropped from memory to keep within EXSCHED_FEED_CACHE_MB",
)
#: What a mail taken in can become (scheduler.inbound.intake.Intake.outcome).
INBOUND_OUTCOMES = ("applied", "unchanged", "unmatched", "not-a-reply", "bounced", "duplicate")

# Known label values are exported at 0 from the start: a rate over them exists before the first
# event (the failure-rate and bounce-rate alerts divide by them), and the dashboard's queries
# can be checked against a live scrape.
for _channel in Channel:
    for _retry in ("yes", "no"):
        SEND_FAILURES.labels(_channel.value, _retry)
for _outcome in INBOUND_OUTCOMES:
    INBOUND_MAIL.labels(_outcome)
for _source in ("memory", "cache", "render"):
    FEED_ANSWERS.labels(_source)


NoticeCounts = tuple[list[tuple[str, str, int]], list[tuple[str, float]]]


class NoticeCollector(Collector):
    """``exsched_notices{kind,status}`` and ``exsched_notices_oldest_seconds{status}``, read when
    scraped by ``counts`` (the notice store's :func:`~scheduler.notices.store.counter`)."""

    def __init__(self, counts: Callable[[], NoticeCounts]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("exsched_notices", "Notices by kind and status", labels=["kind", "status"])
        oldest = GaugeMetricFamily(
            "exsched_notices_oldest_seconds",
            "How long the oldest open notice has waited: pending past its due time, published since "
            "it was published, sending past its lease (0: none waits)",
            labels=["status"],
        )
        try:
            rows, ages = self.counts()
        except Exception as exc:  # a scrape must not fail because the database is away
            log.warning("metrics_notice_query_failed", error=str(exc))
            rows, ages = [], []
        for kind, status, count in rows:
            family.add_metric([kind, status], count)
        for status, seconds in ages:
            oldest.add_metric([status], seconds)
        yield family
        yield oldest


class QueueDepthCollector(Collector):
    """``exsched_queue_depth{queue}`` asked of the broker when scraped."""

    def __init__(self, depth: Callable[[str], int], queues: list[str]) -> None:
        self.depth, self.queues = depth, queues

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("exsched_queue_depth", "Messages ready in a queue", labels=["queue"])
        for queue in self.queues:
            try:
                family.add_metric([queue], self.depth(queue))
            except Exception as exc:  # the broker may be restarting
                log.warning("metrics_queue_depth_failed", queue=queue, error=str(exc))
        yield family


def database_ready(engine: Engine) -> str | None:
    """None when the database answers, else why not."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        return f"database: {exc.__class__.__name__}"


def broker_ready(amqp_url: str | None) -> str | None:
    """None when no broker is configured or one of its nodes accepts a connection, else why not."""
    if not amqp_url:
        return None
    import pika

    problems = []
    for url in amqp_endpoints(amqp_url):
        try:
            params = pika.URLParameters(url)
            params.socket_timeout = 2
            params.connection_attempts = 1
            pika.BlockingConnection(params).close()
            return None
        except Exception as exc:
            problems.append(exc.__class__.__name__)
    return "broker: " + "; ".join(sorted(set(problems)))


def serve_process_endpoint(
    port: int, ready: Callable[[], list[str]], collectors: list[Collector]
) -> ThreadingHTTPServer:
    """``/metrics``, ``/healthz`` and ``/readyz`` for the scheduler and worker processes."""
    scraped = CollectorRegistry()
    for collector in collectors:
        scraped.register(collector)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._answer(200, generate_latest(REGISTRY) + generate_latest(scraped), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                self._answer(200, b'{"status":"ok"}', "application/json")
            elif self.path == "/readyz":
                problems = ready()
                status: dict[str, object] = (
                    {"status": "ready"} if not problems else {"status": "not ready", "problems": problems}
                )
                body = json.dumps(status, ensure_ascii=False).encode()
                self._answer(200 if not problems else 503, body, "application/json")
            else:
                self._answer(404, b"not found\n", "text/plain")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)  # noqa: S104 (scraped from other hosts)
    threading.Thread(target=server.serve_forever, name="exsched-metrics", daemon=True).start()
    log.info("metrics_listening", port=port)
    return server
