"""schemathesis over the whole OpenAPI schema: whatever a client sends, never a 5xx.

Runs against the app in process on a throw-away SQLite database, with an admin key so that the
requests reach the handlers (the authorization matrix tests the keys themselves).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from scheduler.db.migrate import upgrade
from scheduler.db.session import Database
from scheduler.ops.config import Settings
from scheduler.web.app import create_app
from tests.support.services import make_key

_db = Database(f"sqlite:///{Path(tempfile.mkdtemp(prefix='exsched-fuzz-')) / 'fuzz.db'}")
upgrade(_db)
_app = create_app(Settings(database_url=_db.url, public_url="https://exsched.test"), _db)
_admin = make_key(_db)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail_with_a_5xx(case: schemathesis.Case) -> None:
    case.headers = {**(case.headers or {}), **_admin}
    case.call_and_validate(checks=[not_a_server_error])
