"""What crosses the pipe to a worker: a small pickled header, then the arrays' raw bytes.

Pickling arrays one by one costs tens of microseconds each; a check makes thousands
of calls. A message here is the header's length (8 bytes), the header (a pickle of
plain values, with each array's name, dtype and shape), and the arrays' bytes one
after another. Arrays come back as C-contiguous copies that own their memory, as
pickled arrays would, so a kernel may write into its inputs (and be caught doing so).
"""

from __future__ import annotations

import functools
import math
import pickle
import struct
from typing import Any

import numpy as np

from conformance.checks.calls import Call, Reply
from conformance.typing import Array

_LENGTH = struct.Struct("<Q")
Layout = list[tuple[str, str, tuple[int, ...]]]
"""Each array of a mapping: its name, dtype (``'<f4'``) and shape."""


def encode_calls(calls: list[Call]) -> bytes:
    """``calls`` as one message."""
    headers, chunks = [], []
    for call in calls:
        layouts, data = _split(call.arrays)
        flags = (call.repeats, call.watch, call.track, call.track_reset, call.quiet, call.order)
        headers.append((call.spec, call.op, flags, layouts))
        chunks += data
    return _join(tuple(headers), chunks)


def decode_calls(message: bytes) -> list[Call]:
    headers, offset = _header(message)
    calls = []
    for spec, op, flags, layouts in headers:
        arrays, offset = _arrays(message, offset, layouts)
        calls.append(Call(spec, op, tuple(arrays), *flags))
    return calls


def encode_replies(status: str, payload: Any) -> bytes:
    """``("ok", [Reply, ...])``, or a status with a message, as one message."""
    if status != "ok":
        return _join((status, payload), [])
    headers, chunks = [], []
    for reply in payload:
        layouts, data = _split((reply.values,))
        headers.append((reply.seconds, reply.modified, reply.aliases, layouts))
        chunks += data
    return _join((status, headers), chunks)


def decode_replies(message: bytes) -> tuple[str, Any]:
    (status, payload), offset = _header(message)
    if status != "ok":
        return status, payload
    replies = []
    for seconds, modified, aliases, layouts in payload:
        (values,), offset = _arrays(message, offset, layouts)
        replies.append(Reply(values, seconds, tuple(modified), tuple(aliases)))
    return status, replies


def _split(mappings: tuple[dict[str, Array], ...]) -> tuple[list[Layout], list[bytes]]:
    layouts, chunks = [], []
    for mapping in mappings:
        layout = []
        for name, array in mapping.items():
            layout.append((name, array.dtype.str, tuple(array.shape)))
            chunks.append(array.tobytes(order="C"))
        layouts.append(layout)
    return layouts, chunks


def _join(header: tuple, chunks: list[bytes]) -> bytes:
    head = pickle.dumps(header, protocol=pickle.HIGHEST_PROTOCOL)
    return b"".join([_LENGTH.pack(len(head)), head, *chunks])


def _header(message: bytes) -> tuple[Any, int]:
    (length,) = _LENGTH.unpack_from(message)
    start = _LENGTH.size
    return pickle.loads(message[start : start + length]), start + length


def _arrays(
    message: bytes, offset: int, layouts: list[Layout]
) -> tuple[list[dict[str, Array]], int]:
    mappings = []
    for layout in layouts:
        mapping = {}
        for name, dtype, shape in layout:
            kind = _dtype(dtype)
            mapping[name] = np.ndarray(shape, kind, message, offset).copy()
            offset += math.prod(shape) * kind.itemsize
        mappings.append(mapping)
    return mappings, offset


@functools.cache
def _dtype(name: str) -> np.dtype:
    return np.dtype(name)
