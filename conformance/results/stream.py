"""A result file written as the results come, valid JSON after every one.

The file's layout (:func:`~conformance.results.files.dumps`) puts one result per line
and ends with the fixed closing ``\\n ]\\n}\\n``. :class:`ResultStream` writes the head
(its run marked ``running``) and the closing at once, then each result in a single
write over the old closing that ends with a new one. Whenever the harness stops,
even killed, the file holds strict JSON with every result written so far, and its run
still says ``running``: the report then says the run was cut short, and after how
many of its planned checks. :meth:`ResultStream.finish` replaces it with the final
file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from conformance.results.codec import encode_result
from conformance.results.files import ResultSet, SpecInfo, dumps, relative_to, write_results
from conformance.results.model import CheckResult
from conformance.results.runs import Run

CLOSING = b"\n ]\n}\n"
"""How the file ends, after the last result."""
_EMPTY = '"results": [\n\n ]\n}\n'
"""How :func:`dumps` ends a document without results."""


class ResultStream:
    """Appends results to ``path`` as they come; :meth:`finish` writes the final file.

    A path that is not a regular file (``/dev/stdout``, a pipe) cannot be rewritten
    in place: it gets the final file only.
    """

    def __init__(self, path: Path | str, run: Run, specs: Mapping[str, SpecInfo]) -> None:
        self.path = Path(path)
        self.count = 0
        self._file: IO[bytes] | None = None
        if self.path.exists() and not self.path.is_file():
            return
        text = dumps(ResultSet([], {run.id: run}, dict(specs)).to_json())
        assert text.endswith(_EMPTY), "the result-file layout changed"
        head = (text[: -len(_EMPTY)] + '"results": [').encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed by finish)
        self._file.write(head + CLOSING)
        self._file.flush()
        self._end = len(head)
        """Where the closing starts: the next result is written from here."""

    def append(self, result: CheckResult) -> None:
        """Write ``result`` after the others; the file stays valid JSON."""
        if self._file is None:
            return
        record = encode_result(result)
        if record.get("inputs_file"):
            record["inputs_file"] = relative_to(record["inputs_file"], self.path.parent)
        line = json.dumps(record, ensure_ascii=False, allow_nan=False)
        data = f"{',' if self.count else ''}\n  {line}".encode() + CLOSING
        self._file.seek(self._end)
        self._file.write(data)
        self._file.flush()
        self._end += len(data) - len(CLOSING)
        self.count += 1

    def finish(self, results: ResultSet) -> Path:
        """Replace the streamed file with the final one (its run says how it ended)."""
        self.close()
        return write_results(self.path, results)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
