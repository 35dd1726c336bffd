"""Reading what the in-process bus holds."""

from __future__ import annotations

import threading

from scheduler.bus.base import Delivery, Outcome
from scheduler.bus.memory import InProcessBus


def drain(bus: InProcessBus, queue: str) -> list[Delivery]:
    got: list[Delivery] = []
    stop = threading.Event()

    def take(delivery: Delivery) -> Outcome:
        got.append(delivery)
        return Outcome.ACK

    def stop_when_empty() -> None:
        while bus.queue_depth(queue):
            stop.wait(0.05)
        stop.wait(0.3)
        stop.set()

    watcher = threading.Thread(target=stop_when_empty)
    watcher.start()
    bus.consume([queue], take, stop=stop)
    watcher.join()
    return got
