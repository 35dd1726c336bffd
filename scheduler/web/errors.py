"""Every error leaves as JSON ``{"detail", "errors"}`` with a 4xx status and a reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from scheduler.domain.errors import ExschedError

log = structlog.get_logger(__name__)

_BODY_PREFIXES = ("body", "query", "path", "header")


def _field(loc: tuple[object, ...]) -> str | None:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _BODY_PREFIXES:
        parts = parts[1:] if parts[0] == "body" else parts
    path = ".".join(p for p in parts if not p.startswith("function-after") and p != "model-validator")
    return path or None


def _json(status: int, detail: str, errors: Sequence[Mapping[str, object]] = ()) -> JSONResponse:
    return JSONResponse({"detail": detail, "errors": list(errors)}, status_code=status)


def _html(request: Request, status: int, message: str) -> Response | None:
    """An HTML page instead of JSON, when a mounted UI (the console) claims this request."""
    claim = getattr(request.app.state, "html_errors", None)
    return claim(request, status, message) if claim is not None else None  # type: ignore[no-any-return]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ExschedError)
    async def _domain(request: Request, exc: ExschedError) -> Response:
        page = _html(request, exc.status, exc.message)
        if page is not None:
            return page
        errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        response = _json(exc.status, exc.message, errors)
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
        page = _html(request, 404 if in_path else 422, "; ".join(str(e.get("msg", "")) for e in exc.errors()))
        if page is not None:
            return page
        errors: list[dict[str, str | None]] = []
        for err in exc.errors():
            field = _field(tuple(err.get("loc", ())))
            message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            errors.append({"field": field, "message": message})
        detail = "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else str(e["message"]) for e in errors
        )
        return _json(422, detail or "invalid request", errors)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity_error", error=str(exc.orig))
        return _json(409, "the request conflicts with existing data")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        page = _html(request, exc.status_code, str(exc.detail))
        if page is not None:
            return page
        response = _json(exc.status_code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return _json(500, "internal error; the server log has the details")
