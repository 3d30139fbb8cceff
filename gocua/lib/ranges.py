"""Lists of database ids written compactly, as `[first, last]` runs.

An import of a commune's list inserts thousands of residents whose ids follow each other: the
audit entry that says which residents a chunk touched stays a few bytes instead of a number
per person, and a province admin can still resolve every id."""

from collections.abc import Iterable


def compress(ids: Iterable[int]) -> list[list[int]]:
    """Sorted, de-duplicated runs: [3, 1, 2, 7] → [[1, 3], [7, 7]]."""
    runs: list[list[int]] = []
    for value in sorted(set(ids)):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return runs


def expand(runs: Iterable[Iterable[int]]) -> list[int]:
    """The ids of `compress`'s runs, in order."""
    out: list[int] = []
    for first, last in runs:
        out.extend(range(int(first), int(last) + 1))
    return out


def count(runs: Iterable[Iterable[int]]) -> int:
    return sum(int(last) - int(first) + 1 for first, last in runs)


def merge(runs: Iterable[Iterable[int]]) -> list[list[int]]:
    """Runs joined where they touch or overlap: [[5, 9], [1, 4], [7, 12]] → [[1, 12]]."""
    out: list[list[int]] = []
    for first, last in sorted((int(a), int(b)) for a, b in runs):
        if out and first <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], last)
        else:
            out.append([first, last])
    return out
