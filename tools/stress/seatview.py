"""What the on-sale's buyers know of a show's room: its layout, read once from
`GET /shows/{id}/layout` (immutable), and one availability string per seat in layout order
(`GET /shows/{id}/availability`), kept up to date incrementally. No I/O here: the on-sale
feeds it answers, so picking and counting can be tested on rooms made by hand.

Layout order is section, row, seat number; the availability string and the layout's seats
come in that order, so a seat is known by its *ordinal* (its index in the string) and a
row's seats are a contiguous run of ordinals, ascending by number. Two seats are next to
each other only when their numbers are consecutive: a missing number is an aisle.
"""
import bisect
import random
import threading
from dataclasses import dataclass
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

FREE, HELD, BOOKED = ord("A"), ord("H"), ord("B")
# Buyers who find no group by sampling look at this many more rows in order before leaving
# it to the server's best available: bounds the driver's work per pick late in the sale.
ROWS_SCANNED_AT_MOST = 64


@dataclass(frozen=True)
class Row:
    section: int  # position of its section in layout order: 0 is nearest the stage
    start: int  # ordinal of its lowest-numbered seat
    numbers: Tuple[int, ...]  # ascending

    @property
    def end(self) -> int:
        return self.start + len(self.numbers)


@dataclass(frozen=True)
class Room:
    seat_ids: Tuple[str, ...]  # by ordinal
    categories: Tuple[str, ...]  # each seat's category id, by ordinal
    category_ids: Tuple[str, ...]  # the show's categories, in the layout's order
    rows: Tuple[Row, ...]  # in layout order

    def ordinals_of(self) -> Dict[str, int]:
        return {seat_id: ordinal for ordinal, seat_id in enumerate(self.seat_ids)}


def parse_room(layout: dict) -> Room:
    """The Room of a `GET /shows/{id}/layout` body."""
    seat_ids: List[str] = []
    categories: List[str] = []
    rows: List[Row] = []
    for section_index, section in enumerate(layout["sections"]):
        for row in section["rows"]:
            start = len(seat_ids)
            seats = row["seats"]
            seat_ids.extend(str(seat["id"]) for seat in seats)
            categories.extend(seat["category"] for seat in seats)
            rows.append(Row(section_index, start, tuple(seat["number"] for seat in seats)))
    category_ids = tuple(category["id"] for category in layout.get("categories", ()))
    return Room(tuple(seat_ids), tuple(categories), category_ids, tuple(rows))


def free_runs(row: Row, statuses) -> Iterator[Tuple[int, int]]:
    """(first ordinal, length) of each run of free seats with consecutive numbers in `row`:
    runs end at a taken seat, an aisle (a missing number) or the row's end."""
    run_start, previous = None, None
    for offset, number in enumerate(row.numbers):
        ordinal = row.start + offset
        if statuses[ordinal] != FREE:
            if run_start is not None:
                yield run_start, ordinal - run_start
            run_start = None
        elif run_start is None or number != previous + 1:
            if run_start is not None:
                yield run_start, ordinal - run_start
            run_start = ordinal
        previous = number
    if run_start is not None:
        yield run_start, row.end - run_start


def free_groups(row: Row, statuses, count: int) -> List[int]:
    """Ordinals where a group of `count` free seats with consecutive numbers starts in `row`."""
    return [start + shift for start, length in free_runs(row, statuses) for shift in range(length - count + 1)]


def stranded_singles(room: Room, statuses) -> int:
    """Free seats whose neighbours (by consecutive number) are both taken, an aisle or the
    row's end: seats only a buyer of one seat can still take."""
    return sum(length == 1 for row in room.rows for _, length in free_runs(row, statuses))


class SeatView:
    """The crowd's picture of the room: the last availability string the server gave, with
    the seats the crowd has taken since laid over it. Shared by every client thread, as a
    CDN's copy is (`/availability` may be cached for a second), so it is read once a second
    for the whole crowd rather than once per buyer. Thread-safe."""

    def __init__(self, room: Room, statuses: str):
        self.room = room
        self.row_starts = [row.start for row in room.rows]
        self.lock = threading.Lock()
        self.statuses = bytearray(len(room.seat_ids))
        self.free_in_row = [0] * len(room.rows)
        self.open_rows: List[int] = []  # rows with a free seat at the last refresh, front first
        self.server_free = 0  # free seats in the server's last string: 0 is sold out
        self.marks: List[Tuple[float, Sequence[int]]] = []  # (when, ordinals) taken since the last refresh
        self.largest: Optional[int] = None  # the longest free run, found when first asked after a refresh
        self.refresh(statuses, since=0.0)

    def refresh(self, statuses: str, since: float) -> None:
        """Takes the server's string (read at `since`, time.monotonic()) and lays the crowd's
        own claims made after that over it again; the rest of the marks are in the string."""
        encoded = statuses.encode("ascii")
        with self.lock:
            length = len(self.statuses)
            self.statuses[:] = encoded[:length].ljust(length, b"B")  # a wrong length is the invariant's to report
            self.server_free = self.statuses.count(FREE)
            self.marks = [(when, ordinals) for when, ordinals in self.marks if when >= since]
            for _, ordinals in self.marks:
                for ordinal in ordinals:
                    self.statuses[ordinal] = HELD
            self.free_in_row = [self.statuses.count(FREE, row.start, row.end) for row in self.room.rows]
            self.open_rows = [index for index, free in enumerate(self.free_in_row) if free]
            self.largest = None

    def mark_taken(self, ordinals: Iterable[int], when: float) -> None:
        """Seats the crowd has just held or was told are taken."""
        ordinals = list(ordinals)
        with self.lock:
            self.marks.append((when, ordinals))
            for ordinal in ordinals:
                if self.statuses[ordinal] == FREE:
                    self.statuses[ordinal] = HELD
                    self.free_in_row[bisect.bisect_right(self.row_starts, ordinal) - 1] -= 1

    def largest_group(self) -> int:
        """The most adjacent free seats one row offers: exact after a refresh, an upper bound
        after the crowd's own claims (which only shrink runs). One pass over the open rows,
        at most once a refresh."""
        with self.lock:
            if self.largest is None:
                rows = self.room.rows
                self.largest = max((length for index in self.open_rows
                                    for _, length in free_runs(rows[index], self.statuses)), default=0)
            return self.largest

    def pick(self, count: int, rng: random.Random) -> Optional[List[int]]:
        """`count` free adjacent seats of one row, drawn toward the front as buyers do: a row
        sampled with a bias to the front of the rows still open, then a random group in it;
        None when no group is found within a bounded search (the server may still have one)."""
        with self.lock:
            open_rows = self.open_rows
            if not open_rows:
                return None
            for _ in range(8):
                row_index = open_rows[int(len(open_rows) * rng.random() ** 2)]
                group = self._group_in(row_index, count, rng)
                if group:
                    return group
            first = int(len(open_rows) * rng.random() ** 2)
            scanned = 0
            for row_index in open_rows[first:] + open_rows[:first]:
                if self.free_in_row[row_index] >= count:
                    group = self._group_in(row_index, count, rng)
                    if group:
                        return group
                    scanned += 1
                    if scanned == ROWS_SCANNED_AT_MOST:
                        return None
            return None

    def _group_in(self, row_index: int, count: int, rng: random.Random) -> Optional[List[int]]:
        if self.free_in_row[row_index] < count:
            return None
        starts = free_groups(self.room.rows[row_index], self.statuses, count)
        if not starts:
            return None
        start = rng.choice(starts)
        return list(range(start, start + count))
