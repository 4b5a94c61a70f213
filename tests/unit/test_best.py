"""Best available on crafted rows: ranking, aisles, row ends, taken seats, filters, and the
stranded-single rule, including where a single cannot be avoided."""
from chalicelib.best import RowSeat, candidates, row_groups, stranded_singles


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
