"""One reply for identical calls: the checks of a case share the outputs of one forward call.

``shape``, ``dtype``, ``numeric`` and ``invariants`` (and the whole run of ``chunking``)
each ask ``forward`` of the same drawn inputs; each is a question about the same
outputs. :class:`ReplyCache` keeps the replies of plain forward calls (not timed, not
watched for writes, not tracked for aliasing: those must really run) under a digest of
their spec and arrays, so such a call runs once per case and backend, and is then
answered without a round trip to the worker. Cached values are read-only copies: no
later call of the kernel, and no check, can change them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from conformance.checks.calls import Call, Reply, call_key

CACHE_SIZE = 64
"""Replies kept per backend; a run's checks of one case follow each other."""


def reusable(call: Call) -> bool:
    """Whether ``call`` is a plain forward call, whose reply another such call may share."""
    return call.op == "forward" and call.repeats == 1 and not call.watch and not call.track


class ReplyCache:
    """The last :data:`CACHE_SIZE` replies of one backend's plain forward calls."""

    def __init__(self) -> None:
        self._replies: OrderedDict[bytes, Reply] = OrderedDict()

    def call(self, calls: list[Call], run: Callable[[list[Call]], list[Reply]]) -> list[Reply]:
        """The replies to ``calls``: the cached ones as they are, the others from ``run``
        (in one batch, in order), kept for next time."""
        keys = [call_key(c) if reusable(c) else None for c in calls]
        replies: list[Reply | None] = [self._get(k) for k in keys]
        missing = [i for i, r in enumerate(replies) if r is None]
        if missing:
            for i, reply in zip(missing, run([calls[i] for i in missing]), strict=True):
                key = keys[i]
                replies[i] = reply if key is None else self._put(key, reply)
        return [r for r in replies if r is not None]

    def _get(self, key: bytes | None) -> Reply | None:
        if key is None or key not in self._replies:
            return None
        self._replies.move_to_end(key)
        return self._replies[key]

    def _put(self, key: bytes, reply: Reply) -> Reply:
        values = {}
        for name, value in reply.values.items():
            kept = np.array(value, copy=True)
            kept.flags.writeable = False
            values[name] = kept
        kept_reply = Reply(values, reply.seconds, reply.modified, reply.aliases)
        self._replies[key] = kept_reply
        if len(self._replies) > CACHE_SIZE:
            self._replies.popitem(last=False)
        return kept_reply
