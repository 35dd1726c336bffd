"""The follow-up questions as a form, shared by the member's page (``/followup/{token}``) and the
console's "record for a member": reading what was posted into the series' answer model, and an
earlier answer back into the form's fields."""

from __future__ import annotations

from typing import Any

from scheduler.db.models import FollowupResponseRow, SeriesRow
from scheduler.domain import responses
from scheduler.i18n import Translator
from scheduler.web.validation import field, validated
from schemas.api import OutcomeOut, without_controls


def values_of(row: FollowupResponseRow | None) -> dict[str, Any]:
    """An earlier answer as the form shows it (nothing yet: empty)."""
    if row is None:
        return {"firms": []}
    return {
        "contacts": "" if row.contacts is None else str(row.contacts),
        "firms": list(row.firms or []),
        "intention": "" if row.intention is None else str(row.intention).lower(),
        "contract": "" if row.contract is None else str(row.contract).lower(),
        "value_wan": "" if row.value_wan is None else f"{row.value_wan.normalize():f}",
        "rating": "" if row.rating is None else str(row.rating),
        "useful": row.useful,
        "next_topic": row.next_topic,
        "note": row.text,
    }


def other_firms(values: dict[str, Any], offered: list[str]) -> str:
    """The "other firms" box: as typed, or the answer's firms that are not among the boxes."""
    if "other_firms" in values:
        return str(values["other_firms"])
    return "、".join(f for f in values.get("firms", []) if f not in offered)


def read_answer(
    series: SeriesRow, fields: dict[str, list[str]], t: Translator
) -> tuple[responses.Answer | None, dict[str, str], dict[str, Any]]:
    """The posted follow-up as the series' questions (the member page's and the console's form
    alike): the answer, or the reason per field in the reader's language, and what was typed."""
    # a NUL or ESC pasted into a note would reach no page or database: dropped, as before
    fields = {
        name: [without_controls(v.replace("\r\n", "\n")) for v in values] for name, values in fields.items()
    }
    posted = {name: values for name, values in fields.items() if name not in ("other_firms", "firms")}
    firms = [f.strip() for f in fields.get("firms", []) if f.strip()]
    firms += responses.typed_firms(field(fields, "other_firms"))
    posted["firms"] = list(dict.fromkeys(firms))
    answer, errors = validated(responses.form_of(series), posted, t, lists=("firms",))
    typed: dict[str, Any] = {name: field(fields, name) for name in fields if name not in ("csrf", "firms")}
    typed["firms"] = [f.strip() for f in fields.get("firms", []) if f.strip()]
    return answer, errors, typed


def summary(t: Translator, outcome: OutcomeOut) -> str:
    """One member's report in a line of the reader's language, for staff's lists."""
    parts: list[str] = []
    if outcome.kind == "docking-outcome":
        if outcome.contacts is not None:
            parts.append(t("outcome.contacts", n=outcome.contacts))
        if outcome.firms:
            parts.append(t("outcome.firms", firms="、".join(outcome.firms)))
        if outcome.intention is not None:
            parts.append(t("outcome.intention." + ("yes" if outcome.intention else "no")))
        if outcome.contract is not None:
            parts.append(t("outcome.contract." + ("yes" if outcome.contract else "no")))
        if outcome.value_wan is not None:
            parts.append(t("outcome.value", value=t.number(outcome.value_wan)))
    else:
        if outcome.rating is not None:
            parts.append(t("outcome.rating", n=outcome.rating))
        if outcome.useful:
            parts.append(t("outcome.useful", text=outcome.useful))
        if outcome.next_topic:
            parts.append(t("outcome.next_topic", text=outcome.next_topic))
    if outcome.note:  # a report from before the questions had fields is its note alone
        parts.append(t("outcome.note" if parts else f"outcome.only_note.{outcome.kind}", text=outcome.note))
    return t("outcome.sep").join(parts)
