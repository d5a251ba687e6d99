"""Flow control: the per-port token bucket of agreement clause 2.2.

A bucket holds at most one second's worth of tokens (``rate``), refilled continuously; a submit takes as
many tokens as it counts messages (a group send counts its recipients, CMPP 3.0 appendix 1; a long message
counts its segments, one per submit). Unlike a minimum spacing between PDUs (Jasmin's quota, which refuses
a burst of two at 10/s: jasmin#648), a bucket lets a partner that stays under its rate on average send a
short burst. The rate can change at run time (scenarios, emergency cuts) without losing the level.
"""

from __future__ import annotations

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` held (default: one second's worth, at least 1)."""

    __slots__ = ("_burst", "_level", "_rate", "_updated")

    def __init__(self, rate: float, now: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._rate = rate
        self._burst = burst if burst is not None else max(1.0, rate)
        self._level = self._burst
        self._updated = now

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self._rate

    def set_rate(self, rate: float, now: float, burst: float | None = None) -> None:
        """Change the rate from ``now`` on, keeping the tokens already earned (capped by the new burst)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._refill(now)
        self._rate = rate
        self._burst = burst if burst is not None else max(1.0, rate)
        self._level = min(self._level, self._burst)

    def take(self, tokens: float, now: float) -> bool:
        """Take ``tokens`` if the bucket holds them; otherwise take nothing and return False.

        A request larger than the whole bucket (a group send at a low rate) passes when the bucket is full
        and leaves it in debt, so that it is slowed down rather than refused for ever."""
        self._refill(now)
        if tokens > self._level and self._level < self._burst:
            return False
        self._level -= tokens
        return True

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._level = min(self._burst, self._level + (now - self._updated) * self._rate)
            self._updated = now
