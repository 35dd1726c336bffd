"""A real IMAP server for tests: Debian's Dovecot, started in the foreground on a free loopback
port with a configuration of its own (one user, maildirs in a temporary folder, no TLS), and
stopped afterwards. ``deploy/dev-dovecot.sh`` installs it; without it the tests skip (CI fails)."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.processes import free_port
from tests.support.services import service_missing

USER, PASSWORD = "reply", "a test password"


class Dovecot:
    def __init__(self) -> None:
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(binary).exists():
            service_missing("Dovecot", FileNotFoundError("install dovecot-imapd: bash deploy/dev-dovecot.sh"))
        self.home = Path(tempfile.mkdtemp(prefix="exsched-dovecot-"))
        self.home.chmod(0o755)  # the mail user (not root) reads its maildir below
        self.port = free_port()
        try:
            mail_user = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        except KeyError as exc:
            service_missing("Dovecot's system user", exc)
        for folder in ("run", "state", "mail", "home"):
            (self.home / folder).mkdir()
        if os.geteuid() == 0:
            for folder in ("mail", "home"):
                os.chown(self.home / folder, mail_user.pw_uid, mail_user.pw_gid)
        (self.home / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (self.home / "dovecot.conf").write_text(
            f"""base_dir = {self.home}/run
state_dir = {self.home}/state
log_path = {self.home}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.home}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.home}/users
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={self.home}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
}}
"""
        )
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.home / "dovecot.conf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.imap().logout()
                break
            except OSError as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (self.home / "dovecot.log").read_text()
                        if (self.home / "dovecot.log").exists()
                        else ""
                    )
                    self.stop()
                    service_missing("Dovecot", RuntimeError(f"{exc}; {log[-500:]}"))
                time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{self.port}/INBOX"

    def imap(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox, as the hosted service's MTA would."""
        client = self.imap()
        try:
            status, _ = client.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert status == "OK", status
        finally:
            client.logout()

    def count(self, folder: str) -> int:
        client = self.imap()
        try:
            status, data = client.select(f'"{folder}"', readonly=True)
            return int(data[0]) if status == "OK" else 0
        finally:
            client.logout()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.home, ignore_errors=True)
