"""Reading the notices table as the ledger shows it."""

from __future__ import annotations

from scheduler.db.models import NoticeRow
from scheduler.notices import store


def reason_text(notice: NoticeRow) -> str:
    """A notice's reason in English words, as the API's ``last_error`` and the logs give it."""
    return store.describe(store.reason_of(notice.reason_code, notice.reason_params))
