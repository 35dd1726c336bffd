#!/usr/bin/env bash
# Install what the monitoring tests need, if it is missing: Debian's Prometheus (the server and
# promtool). The tests run promtool on deploy/prometheus/ and start their own Prometheus on a
# loopback port scraping exsched processes they start (the system's service is not used). Needs
# root and apt-get; without them it says what to install (the tests then skip, or fail under
# CI=true).
set -u

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  echo "dev-prometheus: prometheus is installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "dev-prometheus: please install prometheus (Debian package); monitoring tests skip (fail under CI=true)" >&2
  exit 0
fi
echo "dev-prometheus: installing prometheus"
export DEBIAN_FRONTEND=noninteractive
log=/tmp/exsched-apt-prometheus.log
if ! apt-get install -y --no-install-recommends prometheus >"$log" 2>&1; then
  apt-get update >>"$log" 2>&1
  apt-get install -y --no-install-recommends prometheus >>"$log" 2>&1 \
    || { echo "dev-prometheus: apt-get failed; see $log" >&2; tail -5 "$log" >&2; }
fi
# The package's own service is not wanted here (the tests start theirs); where a service manager
# started it, stop it so port 9090 stays free.
if command -v service >/dev/null 2>&1; then service prometheus stop >/dev/null 2>&1 || true; fi
