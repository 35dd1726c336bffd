"""A crowd asking for the same feed right after it changed, against a real ``exsched serve api``
on PostgreSQL: one render serves them all, and the API answers everyone."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest

from scheduler.db.session import Database
from tests.support.api import series_body
from tests.support.processes import free_port, output_of, serving
from tests.support.services import make_key

pytestmark = [pytest.mark.faults, pytest.mark.postgres]
SERIES = 8
CROWD = 20


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def test_twenty_parallel_requests_for_a_changed_feed_share_one_render(
    env: dict[str, str], pg: Database, tmp_path: Path
) -> None:
    port = free_port()
    admin = make_key(pg)
    start = (datetime.now(UTC) + timedelta(days=1)).date()
    with serving(["serve", "api"], env | {"EXSCHED_API_PORT": str(port)}, tmp_path, port) as server:
        base = f"http://127.0.0.1:{port}"
        made = [
            httpx.post(
                f"{base}/api/v1/series",
                json=series_body(
                    title=f"每日交流 {i}", dtstart=f"{start}T{8 + i:02d}:00:00", rrule="FREQ=DAILY"
                ),
                headers=admin,
                timeout=30,
            )
            for i in range(SERIES)
        ]
        assert all(r.status_code == 201 for r in made), [r.text for r in made if r.status_code != 201]
        assert httpx.get(f"{base}/calendars/all.ics", timeout=120).status_code == 200  # rendered, kept
        edited = httpx.patch(
            f"{base}/api/v1/series/{made[0].json()['id']}",
            json={"title": "每日交流 改名"},
            headers=admin,
            timeout=30,
        )
        assert edited.status_code == 200
        rss_before = peak_rss_mb(server.pid)
        with ThreadPoolExecutor(CROWD) as pool:
            answers = list(
                pool.map(lambda _: httpx.get(f"{base}/calendars/all.ics", timeout=120), range(CROWD))
            )
        unrelated = httpx.get(f"{base}/api/v1/chapters", timeout=10)
        rss_after = peak_rss_mb(server.pid)
    assert [a.status_code for a in answers] == [200] * CROWD
    assert len({a.headers["etag"] for a in answers}) == 1 and "每日交流 改名" in answers[0].text
    assert unrelated.status_code == 200
    logged = [json.loads(line) for line in output_of(server).splitlines() if line.startswith("{")]
    renders = [
        e for e in logged if e.get("event") == "feed_rendered" and e.get("feed") == "public:None:None:False"
    ]
    assert len(renders) == 2, renders  # once before the edit, once after it for all twenty
    print(
        f"\nstampede: {CROWD} parallel requests after an edit of one of {SERIES} daily series: "
        f"{len(renders) - 1} render of {renders[-1]['bytes'] / 1024:.0f} KiB in {renders[-1]['ms']} ms; "
        f"API peak RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after"
    )
