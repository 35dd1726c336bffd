"""Reading a posted form into a pydantic model, with the reason for each refused field in the
reader's language: what the member pages and the console's follow-up form share."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from scheduler.i18n import Translator

Model = TypeVar("Model", bound=BaseModel)


def field(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0]


#: pydantic's error types → what the member reads next to the field.
_ERROR_WORDS = {
    "line_break": "form.error.one_line",
    "control_character": "form.error.control",
    "string_too_long": "form.error.too_long",
    "string_too_short": "form.error.required",
    "missing": "form.error.required",
    "email": "form.error.email",
    "int_parsing": "form.error.whole_number",
    "int_from_float": "form.error.whole_number",
    "decimal_parsing": "form.error.number",
    "decimal_max_places": "form.error.number",
    "decimal_max_digits": "form.error.number",
    "greater_than_equal": "form.error.range",
    "less_than_equal": "form.error.range",
    "bool_parsing": "form.error.choose",
    "too_long": "form.error.too_many",
}


def validated(
    model: type[Model], fields: dict[str, list[str]], t: Translator, *, lists: tuple[str, ...] = ()
) -> tuple[Model | None, dict[str, str]]:
    """The form's fields as ``model`` (the form token left out), or the reason per field, in the
    member's language. ``lists`` are fields that take several values (checkboxes)."""
    data: dict[str, object] = {
        name: values if name in lists else values[0]
        for name, values in fields.items()
        if name != "csrf" and name in model.model_fields
    }
    for name in lists:  # no box ticked sends nothing: an empty list
        if name in model.model_fields:
            data.setdefault(name, [])
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "form"
            key = _ERROR_WORDS.get(error["type"], "form.error.invalid")
            limit = (error.get("ctx") or {}).get("max_length", "")
            errors.setdefault(name, t(key, n=limit) if key == "form.error.too_long" else t(key))
        return None, errors
