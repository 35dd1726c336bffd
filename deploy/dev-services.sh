#!/usr/bin/env bash
# Start the local PostgreSQL and RabbitMQ servers the test suite uses, if they are installed
# but not running. Does nothing for a service that is already up or not installed here (the
# tests then skip, or fail under CI=true). Hosts and ports follow the tests' defaults.
set -u

pg_host=${EXSCHED_TEST_PG_HOST:-127.0.0.1}
wait_for() {  # wait_for NAME SECONDS COMMAND...
  local name=$1 seconds=$2; shift 2
  for _ in $(seq "$seconds"); do
    if "$@" >/dev/null 2>&1; then echo "dev-services: $name is up"; return 0; fi
    sleep 1
  done
  echo "dev-services: $name did not come up within ${seconds}s" >&2
  return 1
}
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# PostgreSQL
if port_open "$pg_host" 5432; then
  echo "dev-services: PostgreSQL is up"
elif command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "dev-services: starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for PostgreSQL 30 port_open "$pg_host" 5432
else
  echo "dev-services: PostgreSQL is not installed here; its tests will skip (fail under CI=true)"
fi

# RabbitMQ
if port_open 127.0.0.1 5672; then
  echo "dev-services: RabbitMQ is up"
elif command -v rabbitmq-server >/dev/null 2>&1; then
  echo "dev-services: starting RabbitMQ"
  rabbitmq-server -detached || true
  wait_for RabbitMQ 60 port_open 127.0.0.1 5672
else
  echo "dev-services: RabbitMQ is not installed here; its tests will skip (fail under CI=true)"
fi
exit 0
