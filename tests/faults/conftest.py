"""The faults suite reuses the process fixtures (a migrated PostgreSQL, a RabbitMQ vhost)."""

from tests.support.processes import env, pg  # noqa: F401 (fixtures)
