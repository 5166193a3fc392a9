"""A mutation corpus of the built-in NumPy backends, for the kill rate
(``tests/checks/test_mutation_kill_rate.py``) and the diagnosis
(``tests/diagnosis/test_mutation_corpus.py``).

Each :class:`Mutant` is one correct kernel of ``numpy-vectorized``, ``numpy-loops`` or
``fused-gate`` with exactly one bug, the check kind that must catch it, and the size
profiles and dtypes at which it must be caught. One module per spec family, and
:mod:`mutants.sizes` for the bugs that only real sizes show (blocked loops, time loops
past step 8, fixed workspaces).
"""

from __future__ import annotations

from mutants import bilstm, ctc, lstm, rnn, sizes, slstm
from mutants._model import PROFILES, QUICK, REALISTIC, Mutant
from mutants._origin import builtin

__all__ = ["PROFILES", "QUICK", "REALISTIC", "Mutant", "builtin", "corpus"]

FAMILIES = (lstm, bilstm, ctc, rnn, slstm, sizes)


def corpus() -> list[Mutant]:
    """Every mutant, family by family; ids (``spec:name``) are unique."""
    found = [m for family in FAMILIES for m in family.MUTANTS]
    ids = [m.id for m in found]
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    return found
