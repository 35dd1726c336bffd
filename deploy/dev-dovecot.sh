#!/usr/bin/env bash
# Install what the IMAP tests need, if it is missing: Debian's Dovecot IMAP server. The tests start
# their own Dovecot on a loopback port with a configuration of their own (the system's service is
# not used). Needs root and apt-get; without them it says what to install (the IMAP tests then
# skip, or fail under CI=true).
set -u

if command -v dovecot >/dev/null 2>&1 && [ -x /usr/lib/dovecot/imap ]; then
  echo "dev-dovecot: dovecot-imapd is installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "dev-dovecot: please install dovecot-imapd (Debian package); IMAP tests skip (fail under CI=true)" >&2
  exit 0
fi
echo "dev-dovecot: installing dovecot-imapd"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends dovecot-imapd >/tmp/exsched-apt-dovecot.log 2>&1; then
  apt-get update >>/tmp/exsched-apt-dovecot.log 2>&1
  apt-get install -y --no-install-recommends dovecot-imapd >>/tmp/exsched-apt-dovecot.log 2>&1 \
    || { echo "dev-dovecot: apt-get failed; see /tmp/exsched-apt-dovecot.log" >&2; tail -5 /tmp/exsched-apt-dovecot.log >&2; }
fi
