"""Do unknown and rotated feed tokens answer alike? Bodies must match; times are measured.

    .venv/bin/python -m bench.tokens [--requests 2000]

Alternates requests for a never-issued token and a rotated-away token against the API (in
process, SQLite), and prints the median time of each and their ratio. A ratio near 1 means the
404 does not tell an attacker whether a token once belonged to a member.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from scheduler.db.migrate import upgrade
from scheduler.db.session import Database
from scheduler.ops.config import Settings
from scheduler.ops.logs import configure_logging
from scheduler.web.app import create_app
from tests.support.services import make_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="exsched-bench-tokens-"))
    configure_logging("json", "WARNING", stream=(workdir / "bench.log").open("a"))
    db = Database(f"sqlite:///{workdir / 'tokens.db'}")
    upgrade(db)
    client = TestClient(create_app(Settings(database_url=db.url, public_url="https://x.example"), db))
    admin = make_key(db)
    member = client.post(
        "/api/v1/members", json={"name": "m", "email": "m@x.example", "chapter": "ningbo"}, headers=admin
    ).json()
    rotated = member["feed_url"].removeprefix("https://x.example")
    client.post(f"/api/v1/members/{member['id']}/feed-token", headers=admin)
    unknown = "/calendars/" + "Q" * len(rotated.removeprefix("/calendars/").removesuffix(".ics")) + ".ics"
    times: dict[str, list[float]] = {"unknown": [], "rotated": []}
    bodies = set()
    for _ in range(args.requests):
        for name, path in (("unknown", unknown), ("rotated", rotated)):
            began = time.perf_counter()
            response = client.get(path)
            times[name].append(time.perf_counter() - began)
            assert response.status_code == 404
            bodies.add(response.content)
    assert len(bodies) == 1, "the two 404s must be identical"
    medians = {name: statistics.median(values) * 1e6 for name, values in times.items()}
    print(f"identical 404 bodies: yes ({args.requests} requests each)")
    print(f"median unknown token : {medians['unknown']:8.0f} µs")
    ratio = medians["rotated"] / medians["unknown"]
    print(f"median rotated token : {medians['rotated']:8.0f} µs   ratio {ratio:.3f}")


if __name__ == "__main__":
    main()
