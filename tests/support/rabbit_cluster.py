"""A three-node RabbitMQ cluster on loopback, made of Debian's ``rabbitmq-server`` (the package
``deploy/dev-services.sh`` installs): distinct node names, AMQP and distribution ports of their
own, one Erlang cookie, the second and third nodes joined to the first. Everything lives in a
temporary folder and goes with it; the machine's own broker is not touched.

The scripts are called directly (``/usr/lib/rabbitmq/bin``), not through Debian's wrappers, which
would switch to the ``rabbitmq`` user and its cookie.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import free_port

BIN = Path("/usr/lib/rabbitmq/bin")


def installed() -> bool:
    return (BIN / "rabbitmq-server").exists() and (BIN / "rabbitmqctl").exists()


@dataclass
class Node:
    name: str  # e.g. exsched-b@localhost
    port: int  # AMQP
    dist_port: int
    home: Path
    process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return dict(
            os.environ,
            HOME=str(self.home),  # the cookie is $HOME/.erlang.cookie
            RABBITMQ_NODENAME=self.name,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_CONF_ENV_FILE=str(self.home / "rabbitmq-env.conf"),
            RABBITMQ_CONFIG_FILE=str(self.home / "rabbitmq"),
            RABBITMQ_MNESIA_BASE=str(self.home / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.home / "log"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.home / "enabled_plugins"),
            RABBITMQ_PID_FILE=str(self.home / "pid"),
            RABBITMQ_FEATURE_FLAGS_FILE=str(self.home / "feature_flags"),
            ERL_EPMD_ADDRESS="127.0.0.1",
        )

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"


class RabbitCluster:
    def __init__(self, root: Path, size: int = 3) -> None:
        self.root = root
        suffix = os.urandom(3).hex()
        self.nodes = [
            Node(f"exsched-{letter}-{suffix}@localhost", free_port(), free_port(), root / letter)
            for letter in "abcdefg"[:size]
        ]

    @property
    def url(self) -> str:
        """``EXSCHED_AMQP_URL`` for the whole cluster: every node, comma-separated."""
        return ",".join(node.url for node in self.nodes)

    def ctl(self, node: Node, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [str(BIN / "rabbitmqctl"), "-q", "-n", node.name, *args],
            env=node.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {node.name}: {done.stderr or done.stdout}")
        return done.stdout

    def start(self) -> None:
        for node in self.nodes:
            self._start(node)
        for node in self.nodes:
            self._await(node)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app")
            self._await(node)
        running = self.ctl(first, "eval", "rabbit_nodes:all_running().")
        missing = [n.name for n in self.nodes if n.name not in running]
        if missing:
            raise RuntimeError(f"not running in the cluster: {missing}")

    def _start(self, node: Node) -> None:
        node.home.mkdir(parents=True, exist_ok=True)
        cookie = node.home / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text("EXSCHEDTESTCLUSTERCOOKIE")
            cookie.chmod(0o400)
        (node.home / "enabled_plugins").write_text("[].\n")
        (node.home / "rabbitmq-env.conf").write_text("")
        (node.home / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{node.port}\nloopback_users = none\n"
        )
        log = (node.home / "server.log").open("ab")
        node.process = subprocess.Popen(
            [str(BIN / "rabbitmq-server")], env=node.env(), stdout=log, stderr=log
        )

    def _await(self, node: Node, seconds: float = 120) -> None:
        """Until the node has booted (it registers with epmd a few seconds after its start)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.ctl(node, "await_startup", timeout=seconds)
                return
            except RuntimeError:
                if node.process is not None and node.process.poll() is not None:
                    log = (node.home / "server.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{node.name} exited while starting:\n{log}") from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def leader_of(self, queue: str) -> Node:
        """The node that leads a quorum queue now."""
        listing = self.ctl(self.running()[0], "list_queues", "name", "leader", "--no-table-headers")
        for line in listing.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == queue:
                return next(n for n in self.nodes if n.name == parts[1])
        raise LookupError(f"no quorum queue {queue} in {listing!r}")

    def members_of(self, queue: str) -> set[str]:
        listing = self.ctl(self.running()[0], "list_queues", "name", "members", "--no-table-headers")
        for line in listing.splitlines():
            if line.startswith(queue + "\t") or line.startswith(queue + " "):
                return {part.strip("[],'\"") for part in line.split()[1:] if "@" in part}
        raise LookupError(f"no quorum queue {queue} in {listing!r}")

    def running(self) -> list[Node]:
        return [n for n in self.nodes if n.process is not None and n.process.poll() is None]

    def stop_node(self, node: Node) -> None:
        """Stop one node for good (its Erlang VM halts), as a machine lost would."""
        self.ctl(node, "stop")
        if node.process is not None:
            node.process.wait(timeout=60)

    def close(self) -> None:
        for node in self.running():
            try:
                self.ctl(node, "stop", timeout=60)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
            if node.process is not None and node.process.poll() is None:
                node.process.kill()
                node.process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(n.process and n.process.poll() is None for n in self.nodes):
            time.sleep(0.2)
        shutil.rmtree(self.root, ignore_errors=True)
