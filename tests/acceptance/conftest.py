"""Tests that run exsched as processes get a migrated PostgreSQL and a RabbitMQ vhost of their own."""

from tests.support.processes import env, pg  # noqa: F401 (fixtures)
