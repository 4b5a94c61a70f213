"""Best available: which `count` adjacent seats of one row to offer, best first. No I/O.

Ranks. Sections come in layout order (nearest the stage first), rows in layout order within
their section: a group's *rank class* is its row. Within a row, groups nearer the row's middle
are better (the middle of the row's whole numbering, taken seats and aisles included).

Stranded singles. Free seats between taken seats, aisles (missing numbers) and the row's ends
form runs. A group of `count` seats inside a run leaves `left` free seats before it and `right`
after it; it strands a single when either is exactly 1: that seat can never be sold to a pair.
In a row where some group strands nothing, stranding groups are never offered; in a row where
every group strands one, they are (a single is then unavoidable: a run of count + 1 seats).

Candidates come best first: the first row that has a group of `count`, its groups by distance
to the middle, then the next row's, and so on. A buyer who loses the race for the best group
reads the room again and is offered the best one left.
"""
from dataclasses import dataclass
from itertools import groupby
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple


@dataclass(frozen=True)
class RowSeat:
    """A seat of the section being searched, in layout order, and whether it is free now."""
    id: int
    row: str
    number: int
    category: str
    accessible: bool
    free: bool
    ordinal: int = 0  # place in the layout


@dataclass(frozen=True)
class Group:
    seats: Tuple[RowSeat, ...]
    strands: bool  # leaves a single free seat beside it
    distance: float  # of its centre from the row's middle

    @property
    def ids(self) -> Tuple[int, ...]:
        return tuple(seat.id for seat in self.seats)


def _runs(row: Sequence[RowSeat]) -> Iterator[List[RowSeat]]:
    """Maximal stretches of free seats with consecutive numbers."""
    run: List[RowSeat] = []
    for seat in row:
        if seat.free and run and seat.number == run[-1].number + 1:
            run.append(seat)
            continue
        if run:
            yield run
        run = [seat] if seat.free else []
    if run:
        yield run


def _fits(seat: RowSeat, category: Optional[str], accessible: bool) -> bool:
    return (category is None or seat.category == category) and (not accessible or seat.accessible)


def row_groups(row: Sequence[RowSeat], count: int, category: Optional[str] = None,
               accessible: bool = False) -> List[Group]:
    """The groups of `count` adjacent free seats of one row that pass the filters, best first
    (nearest the row's middle): those that strand nothing, or, when every group strands a
    single, all of them."""
    if not row:
        return []
    middle = (row[0].number + row[-1].number) / 2
    groups = []
    for run in _runs(row):
        for start in range(len(run) - count + 1):
            seats = tuple(run[start:start + count])
            if not all(_fits(seat, category, accessible) for seat in seats):
                continue
            left, right = start, len(run) - start - count
            centre = (seats[0].number + seats[-1].number) / 2
            groups.append(Group(seats, left == 1 or right == 1, abs(centre - middle)))
    if any(not group.strands for group in groups):
        groups = [group for group in groups if not group.strands]
    return sorted(groups, key=lambda group: (group.distance, group.seats[0].number))


def candidates(seats: Iterable[RowSeat], count: int, category: Optional[str] = None,
               accessible: bool = False) -> Iterator[Group]:
    """Groups of a section's seats (in layout order), best first, row by row."""
    for _, row in groupby(seats, key=lambda seat: seat.row):
        yield from row_groups(list(row), count, category, accessible)


def stranded_singles(seats: Iterable[RowSeat]) -> int:
    """Free seats with no free neighbour (by number, in the same row): what a sell-out leaves."""
    total = 0
    for _, row in groupby(seats, key=lambda seat: seat.row):
        total += sum(1 for run in _runs(list(row)) if len(run) == 1)
    return total


def largest_group(seats: Iterable[RowSeat], category: Optional[str] = None, accessible: bool = False) -> int:
    """The most adjacent free seats of one row that pass the filters: no group of more fits."""
    largest = 0
    for _, row in groupby(seats, key=lambda seat: seat.row):
        for run in _runs(list(row)):
            length = 0
            for seat in run:
                length = length + 1 if _fits(seat, category, accessible) else 0
                largest = max(largest, length)
    return largest
