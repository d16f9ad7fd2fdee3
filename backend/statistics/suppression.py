"""Small-number suppression of one column of counts (one quarter of one table); the rule in full
is in the ``backend.statistics`` docstring. Deterministic: the same counts in the same order always
give the same published column, whatever page or download shows it."""

from __future__ import annotations

from math import inf
from typing import Mapping, Union

SUPPRESS_BELOW = 5
SMALL = "<5"
HIDDEN = "[c]"

Count = Union[int, str]
"""A count as published: an int, ``"<5"`` (1 to 4) or ``"[c]"`` (hidden so a "<5" stays hidden)."""


def primary(value: int) -> Count:
    """Rule 1: 1 to 4 -> ``"<5"``; zero and 5 or more unchanged."""
    return SMALL if 0 < value < SUPPRESS_BELOW else value


def recoverable(small: int, hidden_sum: int, others: int = 0, other_max: float = inf) -> bool:
    """Whether ``small`` hidden "<5" cells (1 to 4 each) and ``others`` hidden "[c]" cells (from 5 to
    ``other_max`` each), adding up to ``hidden_sum``, leave a "<5" cell only one possible value.

    Exact for such box constraints: a "<5" cell can be anything from ``hidden_sum`` minus the most
    the other hidden cells can hold, to ``hidden_sum`` minus the least they can hold, within 1..4.
    """
    if small == 0:
        return False
    highest = min(SUPPRESS_BELOW - 1, hidden_sum - (small - 1) - SUPPRESS_BELOW * others)
    lowest = max(1, hidden_sum - (SUPPRESS_BELOW - 1) * (small - 1) - (others * other_max if others else 0))
    return highest <= lowest


def suppress_table(counts: Mapping[str, int]) -> dict[str, Count]:
    """Rules 1 to 3 for cells that add up to a total the reader knows (same keys, same order)."""
    small = [key for key, value in counts.items() if 0 < value < SUPPRESS_BELOW]
    if not small:
        return dict(counts)
    big = sorted((value, position, key) for position, (key, value) in enumerate(counts.items())
                 if value >= SUPPRESS_BELOW)
    hidden_sum = sum(counts[key] for key in small)
    extra, other_max = None, inf
    if big:
        value, position, extra = big[0]
        hidden_sum += value
        # it was the smallest: no bigger than any count still shown (smaller if that one comes first)
        other_max = min([shown if position < place else shown - 1 for shown, place, _ in big[1:]], default=inf)
    if recoverable(len(small), hidden_sum, 1 if extra is not None else 0, other_max):
        return {key: HIDDEN for key in counts}
    return {key: SMALL if key in small else HIDDEN if key == extra else value for key, value in counts.items()}


def suppress_within(parent: Count, counts: Mapping[str, int]) -> dict[str, Count]:
    """Rule 5: the parts of a published cell (the police force areas of a region, say). Shown exactly,
    the parent is their total and rules 1 to 3 apply; hidden, every part is hidden too, zeros
    included, so the parts cannot give the parent away."""
    if isinstance(parent, int):
        return suppress_table(counts)
    return {key: HIDDEN for key in counts}
