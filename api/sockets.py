"""The WebSocket connections a process holds, counted for its caps and closed when their
key stops being valid. Kept apart from `api.websocket` so `api.context` can hold one."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from api.auth import Principal

if TYPE_CHECKING:
    from api.websocket import SubscriptionsOnly

log = logging.getLogger("creditlink.ws")

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_MANY = 4429


class SocketRegistry:
    """This process's WebSocket connections: how many are open, and the authenticated
    ones by key with their subscriptions."""

    def __init__(self) -> None:
        self.connected = 0  # every open connection, authenticated or not yet
        self._open: set[SubscriptionsOnly] = set()
        self.per_key: Counter[str] = Counter()
        self.subscriptions: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._open)

    def add(self, handler: SubscriptionsOnly) -> None:
        self._open.add(handler)
        self.per_key[handler.principal.name] += 1

    def remove(self, handler: SubscriptionsOnly) -> None:
        if handler in self._open:
            self._open.discard(handler)
            self.per_key[handler.principal.name] -= 1
            self.subscriptions[handler.principal.name] -= len(handler.counted)
            handler.counted.clear()

    async def revalidate(self, still_valid: Callable[[Principal], bool]) -> int:
        """Close every connection whose key no longer lets it in; returns how many."""
        closed = 0
        for handler in list(self._open):
            if not still_valid(handler.principal):
                closed += 1
                self.remove(handler)
                await handler.websocket.close(
                    code=CLOSE_UNAUTHENTICATED, reason="the API key was revoked or changed"
                )
        if closed:
            log.info("closed WebSockets after a keys change", extra={"connections": closed})
        return closed
