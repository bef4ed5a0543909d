"""Pairs whose flow cannot change the selection, and so need not be computed.

The selection (:func:`wilddeblur.dataset.select.select_windows`) fails every pair within
``guard`` pairs of a pair whose ``statistic`` exceeds ``usable_px``. A pair's own flow matters
only to the pairs within the guard of it, and not at all when each of them fails anyway: when
the pair lies strictly between two failing pairs at most 2 × guard + 1 apart, every pair within
the guard of it is within the guard of one of the two. Its flow can then be skipped.

The flow stage computes every (2 × guard + 1)-th pair first (the lattice). Between two lattice
pairs that both fail it computes nothing; between others, only from a passing start on up to
the first failing pair and from a passing end back to the last failing one (:func:`fill_gap`).
In a fast stretch that is one pair in 2 × guard + 1. Skipped pairs stay in the flow table as
rows of NaN statistics marked ``skipped``, with the rule beside them (:data:`RULE_COLUMNS`),
which the selection reads back (:meth:`SkipRule.of_table`) to refuse a table skipped under a
looser rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

RULE_COLUMNS = {"statistic": "skip_statistic", "usable_px": "skip_usable_px",
                "guard": "skip_guard"}


@dataclass(frozen=True)
class SkipRule:
    """The selection's flow check: a pair fails when its ``statistic`` exceeds ``usable_px``
    (select.threshold × interpolate.factor), and so do the ``guard`` pairs on either side."""

    statistic: str
    usable_px: float
    guard: int

    def fails(self, stats: dict[str, float]) -> bool:
        """Whether a pair fails the flow check itself (NaN fails, as in the selection)."""
        return not stats[self.statistic] <= self.usable_px

    def covers(self, other: SkipRule) -> bool:
        """Whether every pair skipped under this rule fails under ``other`` too: the same
        statistic, a usable motion no larger, a guard no shorter."""
        return (other.statistic == self.statistic and other.usable_px <= self.usable_px
                and other.guard >= self.guard)

    @classmethod
    def of_table(cls, table: pd.DataFrame) -> SkipRule | None:
        """The rule a flow table's pairs were skipped under; None when none was skipped."""
        if "skipped" not in table or not table["skipped"].any():
            return None
        first = table.iloc[0]
        return cls(str(first[RULE_COLUMNS["statistic"]]),
                   float(first[RULE_COLUMNS["usable_px"]]), int(first[RULE_COLUMNS["guard"]]))

    def describe(self) -> str:
        return (f"statistic {self.statistic!r} over {self.usable_px:g} px, guard "
                f"{self.guard} pairs")


def fill_gap(a: int, b: int, a_fails: bool, b_fails: bool,
             fails: Callable[[int], bool]) -> None:
    """Compute (``fails(x)`` computes pair x and says whether it fails) the pairs strictly
    between pairs ``a`` and ``b`` (b − a ≤ 2 × guard + 1) whose flow can change the selection:
    from a passing ``a`` on up to the first failing pair, and from a passing ``b`` back to the
    last failing one. The pairs left lie strictly between two failing pairs."""
    lo = a
    if not a_fails:
        lo = next((x for x in range(a + 1, b) if fails(x)), b)
    if not b_fails:
        for x in range(b - 1, lo, -1):
            if fails(x):
                break
