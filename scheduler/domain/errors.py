"""Errors that carry what was wrong and what to do; the API maps them to 4xx answers."""

from __future__ import annotations


class ExschedError(Exception):
    """Base of the errors a user can act on; ``status`` is the HTTP status it maps to."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        #: What kind of refusal this is, for a page that words it in the reader's language.
        self.code = code


class InvalidInput(ExschedError):
    """The request is well-formed but its content cannot be accepted."""

    status = 422


class RecurrenceError(InvalidInput):
    """A series' timing (rule, dates, zone, window) cannot be accepted or expanded."""


class NotFound(ExschedError):
    status = 404


class Conflict(ExschedError):
    status = 409


class Unauthorized(ExschedError):
    status = 401


class Forbidden(ExschedError):
    status = 403


class Unavailable(ExschedError):
    """This process cannot do that now (a part it needs is not running here)."""

    status = 503
