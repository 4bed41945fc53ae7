"""Token buckets: how many requests a key, or an alliance, may make per minute.

A bucket holds up to `per_minute` tokens and refills continuously at `per_minute` a
minute; a request takes one. Buckets are per process (several API processes each allow
the full rate: budget for that, see docs/operations.md). Keyed by the authenticated key
and its tenant, never by a client address a header could spoof.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBuckets:
    """A bounded set of token buckets, one per name (least recently used forgotten)."""

    def __init__(
        self,
        per_minute: int,
        *,
        capacity: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.rate = per_minute / 60.0  # tokens a second
        self.capacity = capacity
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, name: str) -> int | None:
        """Take a token for `name`: None if one was there, else the whole seconds to wait
        before one will be (what a Retry-After header says)."""
        if self.per_minute <= 0:
            return None  # no limit
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(name, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[name] = (tokens - 1.0, now)
                wait = None
            else:
                self._buckets[name] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / self.rate))
            while len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)  # a full bucket is what a new name gets
        return wait
