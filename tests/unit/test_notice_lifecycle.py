"""The life of a notice is written down once, in the notice store, and nothing else changes it."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path

from scheduler.notices.store import FINAL, OPEN, TRANSITIONS
from schemas.names import NoticeStatus

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "scheduler" / "notices" / "store.py"


def reachable_from(start: NoticeStatus) -> set[NoticeStatus]:
    seen, todo = {start}, deque([start])
    while todo:
        status = todo.popleft()
        for transition in TRANSITIONS.values():
            if status in transition.sources:
                for target in transition.targets - seen:
                    seen.add(target)
                    todo.append(target)
    return seen


def test_every_status_is_reached_from_pending_and_every_open_one_can_finish() -> None:
    assert TRANSITIONS["plan"].targets == {NoticeStatus.PENDING}
    assert reachable_from(NoticeStatus.PENDING) == set(NoticeStatus)
    for status in OPEN:
        assert reachable_from(status) & FINAL, status


def test_sent_and_skipped_are_for_good_and_only_staff_reopen_a_failure() -> None:
    for name, transition in TRANSITIONS.items():
        # a sent notice is never sent again: the one thing that can befall it is a bounce
        if NoticeStatus.SENT in transition.sources:
            assert (name, transition.targets) == ("bounce", {NoticeStatus.BOUNCED}), name
        assert NoticeStatus.SKIPPED not in transition.sources, name
        assert NoticeStatus.BOUNCED not in transition.sources, name
    reopen = [n for n, t in TRANSITIONS.items() if NoticeStatus.FAILED in t.sources]
    assert reopen == ["staff_retry"]


def test_no_module_but_the_store_writes_a_notice_status() -> None:
    writes = re.compile(
        r"update\(\s*(NoticeRow|NOTICES)\b|(NoticeRow|NOTICES)\.(__table__\.)?(insert|update|delete)\(|"
        r"\.status\s*=\s*(NoticeStatus|\"(pending|published|sending|sent|failed|cancelled|skipped|bounced)\")"
    )
    offenders = []
    for folder in ("scheduler", "workers"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == STORE or "migrations" in path.parts:
                continue
            offenders += [
                f"{path.relative_to(ROOT)}:{n}"
                for n, line in enumerate(path.read_text().splitlines(), 1)
                if writes.search(line)
            ]
    assert offenders == []
    assert writes.search(STORE.read_text()), "the pattern finds nothing even in the store: it is wrong"
