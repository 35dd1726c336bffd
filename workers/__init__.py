"""The consumers: take notices off the bus, render them, send them once, record the result.

``runtime`` knows messages (claim, ack, retry, dead letters); ``render`` and ``mail`` know
what a member reads; ``channels`` know how it leaves (SMTP, file outbox).
"""
