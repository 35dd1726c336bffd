"""The deploy files agree with the code: names from schemas/, commands the CLI has, a topology
RabbitMQ accepts and the app's own declarations match. No container engine runs here, so the
compose file is checked by reading it."""

from __future__ import annotations

import configparser
import copy
import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from scheduler.bus.rabbitmq import DEAD_QUEUE_ARGUMENTS, WORK_QUEUE_ARGUMENTS, RabbitBus
from scheduler.cli import app as cli_app
from schemas.bus import DEAD_EXCHANGE, DEAD_QUEUE, EXCHANGE, ROLES, bindings, queue_name

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DEFINITIONS = json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())
COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def cli_commands() -> set[tuple[str, ...]]:
    import typer.main

    group = typer.main.get_group(cli_app)
    found = set()
    for name, command in group.commands.items():
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found |= {(name, sub) for sub in subcommands}
        else:
            found.add((name,))
    return found


def test_definitions_declare_exactly_the_topology_of_schemas_bus() -> None:
    assert {(e["name"], e["type"], e["durable"]) for e in DEFINITIONS["exchanges"]} == {
        (EXCHANGE, "topic", True),
        (DEAD_EXCHANGE, "fanout", True),
    }
    queues = {q["name"]: q["arguments"] for q in DEFINITIONS["queues"]}
    assert queues == {
        **{queue_name(r): WORK_QUEUE_ARGUMENTS for r in ROLES},
        DEAD_QUEUE: DEAD_QUEUE_ARGUMENTS,
    }
    assert all(q["durable"] for q in DEFINITIONS["queues"])
    declared = {(b["source"], b["destination"], b["routing_key"]) for b in DEFINITIONS["bindings"]}
    assert declared == {(EXCHANGE, q, k) for q, k in bindings()} | {(DEAD_EXCHANGE, DEAD_QUEUE, "")}
    [policy] = DEFINITIONS["policies"]
    assert {name for name in queues if re.match(policy["pattern"], name)} == {queue_name(r) for r in ROLES}
    assert policy["definition"]["dead-letter-exchange"] == DEAD_EXCHANGE


def test_the_app_user_may_touch_only_exsched_names() -> None:
    [permission] = DEFINITIONS["permissions"]
    names = [EXCHANGE, DEAD_EXCHANGE, DEAD_QUEUE, *(queue_name(r) for r in ROLES)]
    for kind in ("configure", "write", "read"):
        assert all(re.match(permission[kind], name) for name in names)
        assert not re.match(permission[kind], "amq.topic") and not re.match(permission[kind], "other.queue")
    assert DEFINITIONS["users"][0]["tags"] == []  # no management or admin rights


@pytest.mark.rabbitmq
def test_rabbitmq_accepts_the_definitions_and_the_app_declares_the_same_queues(amqp_url: str) -> None:
    vhost, user = f"exsched-deploy-{uuid.uuid4().hex[:6]}", f"exsched-deploy-{uuid.uuid4().hex[:6]}"
    trial = copy.deepcopy(DEFINITIONS)
    for section in ("exchanges", "queues", "bindings", "policies", "permissions"):
        for item in trial[section]:
            item["vhost"] = vhost
    trial["vhosts"] = [{"name": vhost}]
    trial["users"][0]["name"] = user
    trial["permissions"][0]["user"] = user
    path = Path(f"/tmp/{vhost}.json")
    path.write_text(json.dumps(trial))
    try:
        imported = subprocess.run(
            ["rabbitmqctl", "-q", "import_definitions", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert imported.returncode == 0, imported.stderr
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        url = amqp_url.rsplit("/", 1)[0] + "/" + vhost
        RabbitBus(url).declare()  # raises PRECONDITION_FAILED if any argument disagrees
        listed = subprocess.run(
            ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        assert all(f"{name}\tquorum" in listed for name in [DEAD_QUEUE, *(queue_name(r) for r in ROLES)])
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, timeout=60)
        subprocess.run(["rabbitmqctl", "-q", "delete_user", user], capture_output=True, timeout=60)
        path.unlink(missing_ok=True)


def test_compose_runs_one_api_two_schedulers_two_workers_on_the_three_urls() -> None:
    services = COMPOSE["services"]
    assert {"postgres", "rabbitmq", "migrate", "api", "scheduler", "worker", "inbound"} <= set(services)
    assert services["rabbitmq"]["image"].endswith("-management")
    assert services["scheduler"]["deploy"]["replicas"] == 2 and services["worker"]["deploy"]["replicas"] == 2
    commands = cli_commands()
    for name in ("migrate", "api", "scheduler", "worker", "inbound"):
        service = services[name]
        assert tuple(service["command"][:2]) in commands, service["command"]
        env = service["environment"]
        assert (
            env["EXSCHED_DATABASE_URL"].startswith("postgresql://")
            and "@postgres:5432/" in env["EXSCHED_DATABASE_URL"]
        )
        vhost = DEFINITIONS["vhosts"][0]["name"]
        user = DEFINITIONS["users"][0]["name"]
        assert env["EXSCHED_AMQP_URL"].startswith(f"amqp://{user}:") and env["EXSCHED_AMQP_URL"].endswith(
            f"/{vhost}"
        )
        assert {"EXSCHED_SMTP_URL", "EXSCHED_SECRET_KEY", "EXSCHED_PUBLIC_URL"} <= set(env)
    mounted = {v.split(":")[0] for v in services["rabbitmq"]["volumes"]}
    assert "./rabbitmq/definitions.json" in mounted
    assert (DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text().count("load_definitions") == 1


def test_systemd_units_start_commands_the_cli_has() -> None:
    commands = cli_commands()
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} == {
        "exsched-api.service",
        "exsched-migrate.service",
        "exsched-scheduler@.service",
        "exsched-worker@.service",
        "exsched-inbound.service",
        "exsched-backup.service",
    }
    for unit in units:
        parser = configparser.RawConfigParser(strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(unit)
        start = parser["Service"]["ExecStart"].split()
        assert start[0].endswith("/exsched") and tuple(start[1:3]) in commands, start
        assert parser["Service"]["EnvironmentFile"] == "/etc/exsched/exsched.env"
    example = (DEPLOY / "systemd" / "exsched.env.example").read_text()
    assert {"EXSCHED_DATABASE_URL", "EXSCHED_AMQP_URL", "EXSCHED_SMTP_URL", "EXSCHED_SECRET_KEY"} <= {
        line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")
    }


def test_the_cluster_override_gives_every_process_all_three_nodes() -> None:
    cluster = yaml.safe_load((DEPLOY / "docker-compose.cluster.yml").read_text())
    nodes = {"rabbitmq", "rabbitmq-2", "rabbitmq-3"}
    assert nodes <= set(cluster["services"])
    conf = (DEPLOY / "rabbitmq" / "cluster.conf").read_text()
    assert all(f"rabbit@{node}" in conf for node in nodes)
    for node in nodes:
        mounted = [v.split(":")[1] for v in cluster["services"][node]["volumes"]]
        assert "/etc/rabbitmq/conf.d/30-cluster.conf" in mounted, node
        assert (
            cluster["services"][node].get("environment", {}).get("RABBITMQ_ERLANG_COOKIE")
            or node != "rabbitmq"
        )
    for name in ("migrate", "api", "scheduler", "worker"):
        url = cluster["services"][name]["environment"]["EXSCHED_AMQP_URL"]
        assert {u.split("@")[1].split(":")[0] for u in url.split(",")} == nodes, name
        assert all(u.endswith(f"/{DEFINITIONS['vhosts'][0]['name']}") for u in url.split(","))
