"""An SMTP server for tests: aiosmtpd on a free loopback port, scripted to defer or refuse."""

from __future__ import annotations


class SmtpSink:
    """An aiosmtpd server on a free loopback port that keeps what it accepts.

    ``fail_next(code, count)`` answers the next ``count`` DATA commands with ``code`` (e.g. 451
    for a relay that is busy, 550 for a mailbox that does not exist); ``reject`` answers every
    RCPT for those addresses with 550; ``refuse_senders`` answers MAIL FROM with 553 for a sender
    whose domain is in it (a relay that will not send for that domain); ``delay`` sleeps before
    accepting each message.
    """

    def __init__(self) -> None:
        import threading

        from aiosmtpd.controller import Controller

        self.messages: list[bytes] = []
        #: the envelope sender (MAIL FROM) of each message kept, in order
        self.senders: list[str] = []
        self.lock = threading.Lock()
        self.failures: list[str] = []
        self.reject: set[str] = set()
        self.refuse_senders: set[str] = set()
        self.delay = 0.0
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}"

    def fail_next(self, code: int, count: int = 1) -> None:
        with self.lock:
            self.failures.extend([f"{code} {'Try again later' if code < 500 else 'No such mailbox'}"] * count)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.rpartition("@")[2] in self.refuse_senders:
            return "553 5.7.1 Sender address rejected: not owned by user exsched"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.messages.append(envelope.original_content or envelope.content)
            self.senders.append(envelope.mail_from)
        return "250 Message accepted"

    def received(self) -> list[bytes]:
        with self.lock:
            return list(self.messages)

    def stop(self) -> None:
        self.controller.stop()
