"""Shrinking a failure: the smallest sizes at which a check still fails.

A bug of a blocked loop or a tile shows at ``B = 65`` and not at ``B = 3``; a failure
found there is easier to read, step through and fix at the smallest sizes that still
show it. Greedily, each dimension in turn is tried at 1, at half and at one less
(:func:`~conformance.spec.profiles.smaller`); a try that still fails is kept and the
search starts again from it, until no smaller try fails or the budget is spent. The
tries run the same check, one case at explicit sizes, so the result's re-run command
(``--sizes B=1,D=1,H=65``) reproduces exactly the case reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from conformance.checks import CheckContext, Measurement
from conformance.errors import UsageError
from conformance.results.model import CheckResult, Status
from conformance.spec.model import Spec
from conformance.spec.profiles import SizeChoice, at_sizes, smaller

Measured = tuple[CheckResult, Measurement | None, CheckContext | None]
"""A check's undiagnosed result, its failing measurement, and the context it ran in."""

SHRINK_TRIES = 30
"""At most this many smaller cases are tried per failure."""
SHRINK_SECONDS = 30.0
"""Nor for longer than this."""


def shrink_failure(
    spec: Spec,
    failed: CheckResult,
    measure: Callable[[Spec], Measured],
    *,
    tries: int = SHRINK_TRIES,
    seconds: float = SHRINK_SECONDS,
) -> Measured | None:
    """The smallest failing case found below ``failed``'s sizes, measured by ``measure``
    (the same check on ``spec`` at other sizes); None when no smaller case fails.

    The result says what it was shrunk from, in its message and in
    ``extra["shrunk_from"]`` (sizes, profile), and how many tries it took
    (``extra["shrink_tries"]``).
    """
    if not failed.sizes:
        return None
    start = time.perf_counter()
    sizes, best, tried = dict(failed.sizes), None, 0
    improved = True
    while improved and tried < tries and time.perf_counter() - start < seconds:
        improved = False
        for candidate in smaller(sizes):
            if tried >= tries or time.perf_counter() - start >= seconds:
                break
            try:  # checks the candidate's shapes and domains, as a spec file's sizes are
                smaller_spec = at_sizes(spec, SizeChoice("explicit", candidate))
            except UsageError:
                continue
            tried += 1
            found = measure(smaller_spec)
            if found[0].status is Status.FAIL:
                sizes, best, improved = candidate, found, True
                break
    if best is None:
        return None
    result = best[0]
    result.extra["shrunk_from"] = {"sizes": dict(failed.sizes), "profile": failed.profile}
    result.extra["shrink_tries"] = tried
    result.message += (
        f" (shrunk from {spec.describe_sizes(failed.sizes)} at --sizes {failed.profile}, "
        f"{tried} tries)"
    )
    return best
