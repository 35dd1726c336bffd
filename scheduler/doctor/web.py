"""The public URL: set, answering as exsched, over HTTPS."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

from scheduler.doctor.findings import Finding, fail, first_line, ok, warn
from scheduler.ops.config import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def public_url(settings: Settings) -> list[Finding]:
    if settings.public_url_derived:
        return [
            warn(
                "public url",
                f"EXSCHED_PUBLIC_URL is not set: links in emails and feeds would point at "
                f"{settings.public_url}, which members cannot open",
                "set EXSCHED_PUBLIC_URL to the address members reach the API at, e.g. https://sessions.example.org",
            )
        ]
    url = settings.public_url
    found: list[Finding] = []
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in LOOPBACK:
        found.append(
            warn(
                "public url",
                f"{url} is plain HTTP: links, feeds and console passwords travel unencrypted",
                "put a TLS-terminating reverse proxy in front of the API and use https://",
            )
        )
    status, kind = _health(f"{url}/healthz")
    if status is None:
        found.append(
            fail(
                "public url",
                f"{url} does not answer from here ({kind})",
                "start `exsched serve api` and check the reverse proxy and DNS for that name",
            )
        )
        return found
    if status != 200 or kind != "application/json":
        found.append(
            fail(
                "public url",
                f"{url}/healthz answered {status}, not exsched's health answer",
                "point the reverse proxy at `exsched serve api` (all paths, /healthz included)",
            )
        )
        return found
    found.append(ok("public url", f"{url} answers as exsched"))
    return found


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


def _health(url: str) -> tuple[int | None, str]:
    """(status, content type) of a GET, redirects not followed; (None, why) when nothing answers."""
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(url, timeout=10) as answer:
            return answer.status, answer.headers.get_content_type()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_content_type() if exc.headers else ""
    except (urllib.error.URLError, OSError) as exc:
        why = getattr(exc, "reason", exc)
        return None, first_line(why) if isinstance(why, BaseException) else str(why)
