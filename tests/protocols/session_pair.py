"""A client and a server session wired back to back, with no network (after h11's ConnectionPair)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from protocols.session import Session


@dataclass
class Pair:
    client: Session[Any]
    server: Session[Any]
    now: float = 0.0
    #: Every event each side produced, in order.
    client_events: list[Any] = field(default_factory=list)
    server_events: list[Any] = field(default_factory=list)

    def client_sends(self, pdu: Any) -> list[Any]:
        """The client sends ``pdu``; return what the server made of it (after auto answers flow back)."""
        return self._deliver(self.client.send(pdu, self.now), to_server=True)

    def server_sends(self, pdu: Any) -> list[Any]:
        return self._deliver(self.server.send(pdu, self.now), to_server=False)

    def advance(self, seconds: float) -> None:
        """Move time on, firing both sides' timers and delivering whatever they queue."""
        target = self.now + seconds
        while True:
            due = [t for t in (self.client.next_timer(), self.server.next_timer()) if t is not None]
            step = min(due, default=None)
            if step is None or step > target:
                break
            self.now = max(self.now, step)
            self.client_events += self.client.handle_timer(self.now)
            self.server_events += self.server.handle_timer(self.now)
            self.flush()
        self.now = target

    def flush(self) -> None:
        """Carry queued bytes both ways until both outboxes are empty."""
        while True:
            to_server = self.client.data_to_send()
            to_client = self.server.data_to_send()
            if not to_server and not to_client:
                return
            if to_server:
                self._deliver(to_server, to_server=True)
            if to_client:
                self._deliver(to_client, to_server=False)

    def _deliver(self, data: bytes, *, to_server: bool) -> list[Any]:
        receiver, log = (self.server, self.server_events) if to_server else (self.client, self.client_events)
        events = receiver.receive_data(data, self.now)
        log += events
        self.flush()
        return events
