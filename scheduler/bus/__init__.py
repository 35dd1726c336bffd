"""The message bus: one protocol (:mod:`.base`), a RabbitMQ adapter and an in-process one."""

from scheduler.bus.base import Bus, Delivery, Handler, OutboundMessage, Outcome, PublishReport

__all__ = ["Bus", "Delivery", "Handler", "OutboundMessage", "Outcome", "PublishReport"]
