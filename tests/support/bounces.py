"""Bounces shaped like the ones mail servers send back, written from the standards and the
servers' documented formats (not copied): an RFC 3464 delivery status notification (as Postfix
and most servers send: ``multipart/report`` with a ``message/delivery-status`` part, a failure
or a delay), a qmail bounce (QSBMF, plain text), an Exim bounce (``X-Failed-Recipients``), and
an out-of-office reply that reaches the bounce address — which is not a bounce."""

from __future__ import annotations

import uuid

CRLF = "\r\n"


def _crlf(text: str) -> bytes:
    return CRLF.join(text.strip("\n").split("\n")).encode() + CRLF.encode()


def dsn(
    notice_id: uuid.UUID,
    failed: str,
    *,
    status: str = "5.1.1",
    diagnostic: str = "550 5.1.1 <{addr}>: Recipient address rejected: User unknown in local recipient table",
    action: str = "failed",
    to: str | None = None,
) -> bytes:
    """A delivery status notification from the member's mail server's side."""
    to = to or f"bounce+{notice_id}@assoc.example"
    said = diagnostic.format(addr=failed)
    return _crlf(f"""
Return-Path: <>
Delivered-To: {to}
From: MAILER-DAEMON@mx.lihua.example (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Date: Wed, 02 Dec 2026 10:00:00 +0800
Message-ID: <dsn-{notice_id}@mx.lihua.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B-{notice_id}"

--B-{notice_id}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.lihua.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{failed}>: host mx.lihua.example said: {said}

--B-{notice_id}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.lihua.example
Arrival-Date: Wed, 02 Dec 2026 09:59:58 +0800

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {said}

--B-{notice_id}
Content-Type: text/rfc822-headers

From: exsched <sessions@assoc.example>
To: {failed}
Subject: invitation
Message-ID: <{notice_id}@exsched.invalid>

--B-{notice_id}--
""")


def qmail(notice_id: uuid.UUID, failed: str) -> bytes:
    """A qmail bounce (QSBMF): plain text, the failing address in angle brackets."""
    to = f"bounce+{notice_id}@assoc.example"
    return _crlf(f"""
From: MAILER-DAEMON@mail.oujia.example
To: {to}
Subject: failure notice
Date: Wed, 02 Dec 2026 10:00:00 +0800
Message-ID: <qmail-{notice_id}@mail.oujia.example>

Hi. This is the qmail-send program at mail.oujia.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{failed}>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Subject: invitation
""")


def exim(notice_id: uuid.UUID, failed: str) -> bytes:
    """An Exim bounce: ``X-Failed-Recipients`` names the address."""
    to = f"bounce+{notice_id}@assoc.example"
    return _crlf(f"""
From: Mail Delivery System <Mailer-Daemon@mx.senma.example>
To: {to}
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: {failed}
Auto-Submitted: auto-replied
Date: Wed, 02 Dec 2026 10:00:00 +0800
Message-ID: <exim-{notice_id}@mx.senma.example>

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {failed}
    SMTP error from remote mail server after RCPT TO:<{failed}>:
    550 5.2.1 Mailbox disabled for this recipient
""")


def out_of_office(notice_id: uuid.UUID, sender: str) -> bytes:
    """An auto-reply that went to the envelope sender: not a failure."""
    to = f"bounce+{notice_id}@assoc.example"
    return _crlf(f"""
From: {sender}
To: {to}
Subject: =?utf-8?b?6Ieq5Yqo5Zue5aSN77ya5Ye65beu5Lit?=
Auto-Submitted: auto-replied
Date: Wed, 02 Dec 2026 10:00:00 +0800
Message-ID: <ooo-{notice_id}@lihua.example>
Content-Type: text/plain; charset=utf-8

I am travelling until 10 December, with little access to mail.
""")
