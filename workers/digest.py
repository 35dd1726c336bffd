"""What the monthly digest says (:mod:`scheduler.notices.digests`): to staff, an email with last
month's figures, a line per chapter or series, the month's sessions, a link to the console's
report and the report as .xlsx attached; to a chat group, a few lines and the link.

Staff read the association's language; times are Beijing time, where the association is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import PackageLoader

from scheduler.domain.reports import OFFICE
from scheduler.exports import report_table
from scheduler.exports.report_table import COLUMNS, label_of, shown
from scheduler.i18n import Templates, Translator, translator
from scheduler.notices.digests import Contents, month_of, next_month
from schemas.names import Locale, NoticeKind
from workers.letters import Recipient

#: The figures an email lists at its top (the attachment has them all).
HEADLINE = (
    "held",
    "cancelled",
    "invited",
    "accepted",
    "attended",
    "no_show",
    "followup",
    "contacts",
    "intentions",
    "contracts",
    "value",
    "rating",
)
#: The columns of the email's table of chapters or series.
PER_ROW = ("held", "invited", "attended", "intentions", "contracts")


@dataclass(frozen=True)
class Digest:
    """One digest to one recipient: what it reports, and where the full report is."""

    notice_id: uuid.UUID
    recipient: Recipient
    contents: Contents
    sent_at: datetime
    report_url: str  # the console's report of the month
    return_path: str = ""
    notice_kind: NoticeKind = NoticeKind.DIGEST
    sequence: int = 0  # what the ledger records as told: a digest has no calendar

    @property
    def locale(self) -> Locale:
        return self.recipient.locale

    def attachment_name(self) -> str:
        scope = self.contents.chapter or "all"
        return f"report-{scope}-{self.contents.label}.xlsx"

    def workbook(self) -> bytes:
        """The month's report as the console downloads it."""
        return report_table.xlsx(translator(self.locale), self.contents.report)


class DigestRenderer:
    """The digest's subject, bodies and group message, from the catalogs."""

    def __init__(self) -> None:
        self.templates = Templates(PackageLoader("workers", "templates"))

    def subject(self, digest: Digest) -> str:
        t = translator(digest.locale)
        return t("digest.subject", scope=self._scope(digest, t), month=self._month(digest, t))

    def bodies(self, digest: Digest) -> tuple[str, str]:
        """(text/plain, text/html)."""
        return self._render("digest.txt.j2", digest), self._render("digest.html.j2", digest)

    def group_message(self, digest: Digest) -> tuple[str, str]:
        """(title, text) for a chat group: the headline figures in a sentence, and the link."""
        return self.subject(digest), self._render("digest_group.txt.j2", digest)

    @staticmethod
    def _scope(digest: Digest, t: Translator) -> str:
        chapter = digest.contents.chapter
        return t.chapter_org(chapter) if chapter else t("digest.all")

    @staticmethod
    def _month(digest: Digest, t: Translator) -> str:
        start = month_of(digest.contents.label)
        return t("digest.month", year=start.year, month=start.month)

    def _render(self, template: str, digest: Digest) -> str:
        env = self.templates.get(digest.locale)
        return env.get_template(template).render(self._values(digest, translator(digest.locale)))

    def _values(self, digest: Digest, t: Translator) -> dict[str, Any]:
        made = digest.contents.report
        by_key = {c.key: c for c in COLUMNS}
        ahead = digest.contents.ahead
        following = next_month(month_of(digest.contents.label))
        return {
            "d": digest,
            "scope": self._scope(digest, t),
            "month": self._month(digest, t),
            "next_month": t("digest.month", year=following.year, month=following.month),
            "headline": [(t(f"report.col.{key}"), shown(t, by_key[key], made.total)) for key in HEADLINE],
            "total": made.total,
            "group_head": t(f"report.group.{made.group_by}"),
            "row_head": [t(f"report.col.{key}") for key in PER_ROW],
            "rows": [
                (label_of(t, row, made.group_by), [shown(t, by_key[key], row.figures) for key in PER_ROW])
                for row in made.rows
                if row.figures.held or row.figures.cancelled or row.figures.invited
            ],
            "ahead": [
                {
                    "when": f"{t.long_date(u.start.astimezone(OFFICE))} {t.clock(u.start.astimezone(OFFICE))}",  # noqa: E501
                    "chapter": t.chapter(u.chapter),
                    "title": u.title,
                    "venue": u.venue,
                }
                for u in ahead
            ],
            "sessions_next": len(ahead),
        }
