"""The IT team's monitoring as it ships (deploy/prometheus, deploy/grafana): Prometheus's own
promtool checks the rules and runs their tests, every alert has a firing and a quiet case and a
runbook section; then a real Prometheus, configured from deploy/prometheus/prometheus.yml with
its jobs pointed at loopback, scrapes a running exsched (scheduler, worker, API, inbound) and
every dashboard query and alert rule is run on what it scraped. ``deploy/dev-prometheus.sh``
installs Prometheus (Debian's package); without it these tests skip (CI fails)."""

from __future__ import annotations

import json
import re
import shutil
import smtplib
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import yaml

from scheduler.db.session import Database
from tests.support.factories import add_subscribers, create_series_in_db
from tests.support.processes import (
    free_port,
    listening,
    serving,
    start_exsched,
    start_scheduler,
    start_worker,
    statuses,
    stop_process,
    wait_until,
)
from tests.support.services import service_missing
from tests.support.smtp import SmtpSink

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
RULES = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
RULE_TESTS = yaml.safe_load((PROMETHEUS_DIR / "alerts.test.yml").read_text())
DASHBOARD = json.loads((GRAFANA_DIR / "dashboards" / "exsched.json").read_text())
ALERTS = [rule for group in RULES["groups"] for rule in group["rules"] if "alert" in rule]
#: what Grafana puts in place of its variables when it sends a panel's query
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        service_missing(name, FileNotFoundError("install Debian's prometheus: bash deploy/dev-prometheus.sh"))
    return str(found)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("promtool"), *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=120
    )


def panel_queries() -> list[tuple[str, str]]:
    """(panel title, query) for every query on the dashboard, as Grafana would send it."""
    found = []
    for panel in DASHBOARD["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append((panel["title"], expr))
    return found


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\bexsched_[a-z_]+\b", expr))


# --- the files, by Prometheus's own tools ------------------------------------------------------


def test_promtool_accepts_the_configuration_and_the_rules() -> None:
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout


def test_the_alert_rules_pass_their_promtool_tests() -> None:
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for group in RULE_TESTS["tests"]:
        for case in group["alert_rule_test"]:
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {alert["alert"] for alert in ALERTS}
    assert names - firing == set(), "alerts never shown firing"
    assert names - quiet == set(), "alerts never shown quiet"


def test_every_alert_has_its_runbook_in_operations_md() -> None:
    """The runbook annotation is an anchor of docs/operations.md: a heading named after the alert."""
    text = (ROOT / "docs" / "operations.md").read_text()
    anchors = {heading.strip().lower() for heading in re.findall(r"^#+ (\w+)\s*$", text, re.M)}
    for alert in ALERTS:
        assert alert["annotations"]["runbook"] == f"docs/operations.md#{alert['alert'].lower()}"
        assert alert["alert"].lower() in anchors, f"no runbook section for {alert['alert']}"
        assert alert["labels"]["severity"] in ("page", "ticket")


def test_grafana_is_provisioned_with_the_dashboard_and_its_datasource() -> None:
    [source] = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    [provider] = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "exsched.yml").read_text())[
        "providers"
    ]
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())["services"]
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in compose["grafana"]["volumes"]}
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    assert source["url"] == "http://prometheus:9090" and "prometheus" in compose
    assert compose["prometheus"]["volumes"][0] == "./prometheus:/etc/prometheus:ro"
    panels = [panel for panel in DASHBOARD["panels"] if panel["type"] != "row"]
    assert len(panels) >= 12
    for panel in panels:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"] and all(t["datasource"]["uid"] == source["uid"] for t in panel["targets"])


# --- a real Prometheus scraping a running exsched -----------------------------------------------


class Prometheus:
    """Debian's Prometheus on a loopback port with a configuration of the test's own."""

    def __init__(self, config: dict[str, Any], home: Path) -> None:
        self.port = free_port()
        (home / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = (home / "prometheus.log").open("wb")
        self.proc = subprocess.Popen(
            [
                tool("prometheus"),
                f"--config.file={home / 'prometheus.yml'}",
                f"--storage.tsdb.path={home / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self.ready, 60, "Prometheus ready")

    def ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/-/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def api(self, path: str, **params: str) -> Any:
        answer = httpx.get(f"http://127.0.0.1:{self.port}/api/v1/{path}", params=params, timeout=10).json()
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return list(self.api("query", query=expr)["result"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def scraping(ports: dict[str, int]) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with each exsched job's targets on loopback, scraped and
    evaluated every second."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(PROMETHEUS_DIR / name) for name in config["rule_files"]]
    jobs = [job for job in config["scrape_configs"] if job["job_name"].startswith("exsched-")]
    assert {job["job_name"] for job in jobs} == set(ports)
    for job in jobs:
        del job["dns_sd_configs"]
        job["static_configs"] = [{"targets": [f"127.0.0.1:{ports[job['job_name']]}"]}]
    config["scrape_configs"] = jobs
    return config


@pytest.mark.acceptance
@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_prometheus_scrapes_a_running_system_and_every_panel_and_rule_works_on_it(
    env: dict[str, str], pg: Database, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    add_subscribers(pg, 3)
    create_series_in_db(pg, datetime.now(UTC) + timedelta(hours=3))
    ports = {
        job: free_port() for job in ("exsched-api", "exsched-scheduler", "exsched-worker", "exsched-inbound")
    }
    inbound_port = free_port()
    env = env | {"EXSCHED_SMTP_URL": smtp_sink.url}
    processes = [
        start_scheduler(
            env, tmp_path / "scheduler.log", EXSCHED_METRICS_PORT=str(ports["exsched-scheduler"])
        ),
        start_worker(env, tmp_path / "worker.log", EXSCHED_METRICS_PORT=str(ports["exsched-worker"])),
        start_exsched(
            "inbound",
            env,
            tmp_path / "inbound.log",
            EXSCHED_METRICS_PORT=str(ports["exsched-inbound"]),
            EXSCHED_INBOUND_LISTEN=f"127.0.0.1:{inbound_port}",
            EXSCHED_INBOUND_PROTOCOL="smtp",
        ),
    ]
    (tmp_path / "prometheus").mkdir()
    prometheus = Prometheus(scraping(ports), tmp_path / "prometheus")
    api_port = ports["exsched-api"]
    try:
        with serving(["serve", "api", "--port", str(api_port)], env, tmp_path, api_port):
            wait_until(lambda: statuses(pg).get("sent") == 3, 60, "the invitations were not all delivered")
            for _ in range(3):  # a feed rendered, then answered again
                assert (
                    httpx.get(f"http://127.0.0.1:{api_port}/calendars/all.ics", timeout=10).status_code == 200
                )
            wait_until(lambda: listening(inbound_port), 60, "serve inbound listening")
            with smtplib.SMTP("127.0.0.1", inbound_port) as smtp:
                smtp.sendmail("someone@example.org", ["replies@assoc.example"], NOT_A_REPLY)

            def scraped(expr: str, at_least: float) -> bool:
                return any(float(r["value"][1]) >= at_least for r in prometheus.query(expr))

            wait_until(
                lambda: (
                    scraped('count(up{job=~"exsched-.*"} == 1)', 4)
                    and scraped('sum(exsched_notices_sent_total{kind="invitation"})', 3)
                    and scraped('sum(exsched_inbound_mail_total{outcome="not-a-reply"})', 1)
                    and scraped('sum(exsched_feed_answers_total{source="render"})', 1)
                ),
                60,
                lambda: f"Prometheus did not see the system: {prometheus.query('up')}",
            )
            time.sleep(3)  # a few more scrapes: every rate() has two samples in its window

            names = set(prometheus.api("label/__name__/values"))
            used = set().union(
                *(metric_names(e) for _, e in panel_queries()), *(metric_names(a["expr"]) for a in ALERTS)
            )
            assert used - names == set(), "queried but never scraped"

            empty = [title for title, expr in panel_queries() if not prometheus.query(expr)]
            assert empty == [], f"dashboard queries with no data on a running system: {empty}"
            [sent] = prometheus.query('max(exsched_notices{kind="invitation",status="sent"})')
            assert float(sent["value"][1]) == 3

            rules = [rule for group in prometheus.api("rules")["groups"] for rule in group["rules"]]
            assert {rule["name"] for rule in rules} == {alert["alert"] for alert in ALERTS}
            assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []
            assert [a["labels"]["alertname"] for a in prometheus.api("alerts")["alerts"]] == []

            # a worker gone: the rules see it by the job name this configuration gives it
            stop_process(processes[1])
            wait_until(
                lambda: (
                    {"ExschedWorkerMissing", "ExschedProcessDown"}
                    <= {a["labels"]["alertname"] for a in prometheus.api("alerts")["alerts"]}
                ),
                30,
                lambda: f"no alert for the stopped worker: {prometheus.api('alerts')}",
            )
            states = {a["labels"]["alertname"]: a["state"] for a in prometheus.api("alerts")["alerts"]}
            assert states["ExschedWorkerMissing"] == "pending"  # for 2 minutes before it pages
    finally:
        prometheus.stop()
        for proc in processes:
            stop_process(proc)


NOT_A_REPLY = (
    b"From: someone@example.org\r\nTo: replies@assoc.example\r\nSubject: hello\r\n"
    b"Message-ID: <monitoring-test@example.org>\r\n\r\nNot a calendar reply.\r\n"
)
