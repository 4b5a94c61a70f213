"""Best available on crafted rows: ranking, aisles, row ends, taken seats, filters, and the
stranded-single rule, including where a single cannot be avoided."""
import uuid
from dataclasses import replace

import pytest

from chalicelib import holds
from chalicelib.best import RowSeat, candidates, largest_group, row_groups, stranded_singles
from chalicelib.errors import ShowStarted, ValidationError
from chalicelib.holds import SectionMemo
from chalicelib.repository import Outline
from chalicelib.validation import BestRequest


def row(pattern: str, label: str = "A", category: str = "STD", accessible=(), categories=None):
    """A row from a picture: '.' free, 'x' taken, ' ' an aisle (a missing number); seats are
    numbered from 1 across the picture, aisles included."""
    seats = []
    for index, mark in enumerate(pattern):
        number = index + 1
        if mark == " ":
            continue
        seats.append(RowSeat(id=1000 * ord(label[0]) + number, row=label, number=number,
                             category=(categories or {}).get(number, category),
                             accessible=number in accessible, free=mark == "."))
    return seats


def numbers(group):
    return [seat.number for seat in group.seats]


def test_an_empty_row_offers_the_middle_first():
    groups = row_groups(row(".........."), 2)
    assert numbers(groups[0]) == [5, 6]
    assert [numbers(group) for group in groups[1:3]] == [[4, 5], [6, 7]]


def test_groups_never_cross_an_aisle_or_a_taken_seat():
    for group in row_groups(row("....  ....x...."), 3):
        assert numbers(group) == list(range(numbers(group)[0], numbers(group)[0] + 3))
        assert not {5, 6, 11} & set(numbers(group))


def test_a_group_that_strands_a_single_is_not_offered_when_another_does_not():
    # Seats 1-5 free then taken: a pair at 2-3 would leave seat 1 alone against the row's end,
    # 3-4 would leave 5 alone against the taken seat; 1-2 and 4-5 leave pairs or nothing.
    offered = [numbers(group) for group in row_groups(row(".....x"), 2)]
    assert offered == [[4, 5], [1, 2]]  # nearest the middle (3.5) first
    assert all(not group.strands for group in row_groups(row(".....x"), 2))


def test_a_single_next_to_an_aisle_counts_as_stranded():
    # 1-3 | aisle | 5-8: any pair in 1-3 leaves one seat against the row's end or the aisle,
    # and 6-7 leaves one on each side; 5-6 and 7-8 leave a pair.
    offered = [numbers(group) for group in row_groups(row("... ....", ), 2)]
    assert offered == [[5, 6], [7, 8]]


def test_when_every_group_strands_one_the_single_is_unavoidable():
    # Three free seats between taken ones, a pair asked: either end strands one.
    groups = row_groups(row("x...x"), 2)
    assert [numbers(group) for group in groups] == [[2, 3], [3, 4]] and all(group.strands for group in groups)


def test_rows_come_in_layout_order_before_the_middle():
    front, back = row("xx..xx", "A"), row("......", "B")
    first = next(candidates(front + back, 2))
    assert (first.seats[0].row, numbers(first)) == ("A", [3, 4])
    assert next(candidates(front + back, 3)).seats[0].row == "B"  # the front row has no three


def test_the_category_and_accessible_filters():
    seats = row("........", categories={3: "VIP", 4: "VIP", 5: "VIP"}, accessible=(7, 8))
    assert [numbers(group) for group in row_groups(seats, 2, category="VIP")] == [[4, 5], [3, 4]]
    assert [numbers(group) for group in row_groups(seats, 2, accessible=True)] == [[7, 8]]
    assert row_groups(seats, 3, accessible=True) == []


def test_no_group_when_the_row_is_too_full():
    assert row_groups(row("x.x.x."), 2) == [] and list(candidates(row("x.x.x."), 2)) == []


def test_stranded_singles_are_counted_per_row():
    assert stranded_singles(row("x.x..x.", "A") + row(".", "B") + row("..", "C")) == 3


def test_the_largest_group_counts_adjacent_free_seats_that_pass_the_filters():
    seats = row("...x.... ..", "A") + row("..x", "B")
    assert largest_group(seats) == 4
    assert largest_group(row("xxxx")) == 0
    assert largest_group(row("......", categories={3: "VIP"}), category="STD") == 3  # 4-6
    assert largest_group(row("......", accessible=(1, 2, 5)), accessible=True) == 2


def test_free_seats_and_row_ends_give_the_groups_the_whole_row_gives():
    """section_seats.sql sends only free seats and each row's ends: the same groups, best first."""
    whole = row("x..x....x.xx...x")
    trimmed = [seat for index, seat in enumerate(whole) if seat.free or index in (0, len(whole) - 1)]
    assert [numbers(group) for group in row_groups(trimmed, 2)] == [numbers(group) for group in row_groups(whole, 2)]


def test_the_section_memo_skips_a_section_too_small_until_its_entry_is_old():
    now = [100.0]
    memo = SectionMemo(seconds=5, clock=lambda: now[0])
    key = ("show", 3, None, False)
    assert not memo.too_small(key, 2)  # never seen: read it
    memo.saw(key, 1)
    assert memo.too_small(key, 2) and not memo.too_small(key, 1)
    now[0] += 4.9
    assert memo.too_small(key, 2)
    now[0] += 0.2
    assert not memo.too_small(key, 2)  # stale: read it again


@pytest.fixture(autouse=True)
def fresh_memos(monkeypatch):
    """Best available's per-container memos, empty for each test (they are module globals)."""
    monkeypatch.setattr(holds, "_sections_seen", SectionMemo(holds.SECTION_MEMO_SECONDS))
    monkeypatch.setattr(holds, "_section_starts", SectionMemo(holds.SECTION_MEMO_SECONDS))


class ChunkedSection:
    """section_seats.sql over a list: free seats and row ends after `after`, at most `limit`."""

    def __init__(self, rows):
        seats = [seat for label, pattern in rows for seat in row(pattern, label)]
        self.seats = [replace(seat, ordinal=index) for index, seat in enumerate(seats)]
        self.reads, self.afters = 0, []

    def free(self, row_label: str, number: int) -> None:
        self.seats = [replace(seat, free=True) if (seat.row, seat.number) == (row_label, number) else seat
                      for seat in self.seats]

    def section_seats(self, show_id, section, after=-1, limit=None):
        self.reads += 1
        self.afters.append(after)
        ends = {}
        for seat in self.seats:
            ends.setdefault(seat.row, []).append(seat.number)
        sent = [seat for seat in self.seats if seat.ordinal > after
                and (seat.free or seat.number in (min(ends[seat.row]), max(ends[seat.row])))]
        return sent[:limit] if limit else sent


@pytest.mark.parametrize("chunk", [1, 3, 5, 8, 1000])
def test_reading_a_section_in_chunks_finds_what_reading_it_whole_finds(monkeypatch, chunk):
    monkeypatch.setattr(holds, "FIRST_CHUNK", chunk)
    rows = [("A", "xxxxxxxx"), ("B", "x.x.x.x."), ("C", "..........x.."), ("D", "......")]
    section = ChunkedSection(rows)
    groups, largest = holds._section_groups(section, "show", 0, BestRequest("u", 3))
    whole = list(candidates(section.section_seats("show", 0), 3))
    assert [numbers(group) for group in groups] == [numbers(group) for group in whole][:len(groups)]
    assert numbers(groups[0]) == [6, 7, 8] and groups[0].seats[0].row == "C"  # the middle of 1-13
    assert largest is None  # a group was found: the section's largest is not known
    groups, largest = holds._section_groups(section, "show", 0, BestRequest("u", 11))
    assert (groups, largest) == ([], 10)  # no group of 11: read to its end, row C's ten is the largest


def test_a_full_section_is_read_in_few_growing_chunks(monkeypatch):
    """Fifty sold-out rows send 100 row ends: chunks of 4, 16, 64, 256 read them in four."""
    monkeypatch.setattr(holds, "FIRST_CHUNK", 4)
    section = ChunkedSection([(f"R{index}", "xxxxxxxxxx") for index in range(50)] + [("Z", "x..x")])
    assert holds._section_groups(section, "show", 0, BestRequest("u", 3)) == ([], 2)
    assert section.reads == 4


class OutlineOnly:
    """A repository that knows only the show's outline (and counts its reads)."""

    def __init__(self, started=False):
        self.started, self.reads = started, []

    def outline(self, show_id, with_names=True):
        self.reads.append(with_names)
        return self.started, Outline(("Front", "Middle", "Back"),
                                     (frozenset({"GOLD"}), frozenset({"GOLD", "SILVER"}), frozenset({"SILVER"})),
                                     frozenset({"GOLD", "SILVER"})) if with_names else None


@pytest.mark.parametrize("category, section, searched", [
    (None, None, [0, 1, 2]), ("GOLD", None, [0, 1]), ("SILVER", None, [1, 2]), (None, "Back", [2]),
    ("GOLD", "Back", []),
])
def test_best_available_searches_only_the_sections_with_the_category_asked(category, section, searched):
    show_id = uuid.uuid4()
    request = BestRequest("u", 2, category=category, section=section)
    repository = OutlineOnly()
    assert holds._sections_to_search(repository, show_id, request) == searched
    assert holds._sections_to_search(repository, show_id, request) == searched
    assert repository.reads == [True, False]  # the names are read once; whether it started, every time


def test_best_available_refuses_what_the_show_does_not_have_and_a_started_show():
    with pytest.raises(ValidationError):
        holds._sections_to_search(OutlineOnly(), uuid.uuid4(), BestRequest("u", 2, category="BRONZE"))
    with pytest.raises(ValidationError):
        holds._sections_to_search(OutlineOnly(), uuid.uuid4(), BestRequest("u", 2, section="Roof"))
    with pytest.raises(ShowStarted):
        holds._sections_to_search(OutlineOnly(started=True), uuid.uuid4(), BestRequest("u", 2))


def test_a_read_starts_past_the_rows_it_last_saw_sold_until_that_is_old(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(holds, "_section_starts", SectionMemo(seconds=30, clock=lambda: now[0]))
    section = ChunkedSection([("A", "xxxxxx"), ("B", "xxxxxx"), ("C", "xx...x"), ("D", "......")])
    first, _ = holds._section_groups(section, "show", 0, BestRequest("u", 2))
    assert numbers(first[0]) == [3, 4] and first[0].seats[0].row == "C"
    assert section.afters == [-1]
    section.free("A", 3), section.free("A", 4)  # a release in a row it saw sold
    again, _ = holds._section_groups(section, "show", 0, BestRequest("u", 2))
    assert section.afters[-1] == 11  # past rows A and B (ordinals 0-11)
    assert [numbers(group) for group in again] == [numbers(group) for group in first]
    now[0] += 29.9
    holds._section_groups(section, "show", 0, BestRequest("u", 2))
    assert section.afters[-1] == 11  # still within the memo's 30 s: advancing does not renew it
    now[0] += 0.2
    fresh, _ = holds._section_groups(section, "show", 0, BestRequest("u", 2))
    assert section.afters[-1] == -1 and fresh[0].seats[0].row == "A"  # a full read sees the release


def test_a_sold_out_section_is_remembered_as_sold_to_its_end():
    section = ChunkedSection([("A", "xxxx"), ("B", "xxxx")])
    assert holds._section_groups(section, "show", 0, BestRequest("u", 1)) == ([], 0)
    holds._section_groups(section, "show", 0, BestRequest("u", 1))
    assert section.afters == [-1, 7]
