"""The HTTP API (FastAPI): ``/api/v1`` for staff and programs."""

from scheduler.api.app import create_app

__all__ = ["create_app"]
