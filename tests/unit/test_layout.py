"""Layout documents: what a good one becomes, and one clear error per bad one (by path)."""
import copy
import json
from pathlib import Path

import pytest

from chalicelib import validation
from chalicelib.errors import ValidationError
from chalicelib.layout import MAX_SECTIONS, grid, parse_layout
from tools.admin import example_layouts

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"

GOOD = {
    "currency": "EUR",
    "categories": [{"id": "PREMIUM", "name": "Premium", "price": 6500},
                   {"id": "STANDARD", "name": "Standard", "price": 4000}],
    "sections": [
        {"name": "Stalls", "position": {"x": 50, "y": 20}, "curve": 0.3,
         "rows": [{"label": "A", "seats": 4, "category": "PREMIUM"},
                  {"label": "AA", "seats": [1, 2, 3, 5, 6, 7], "category": "STANDARD", "accessible": [1, 7],
                   "seatCategories": {"PREMIUM": [3, 5]}}]},
        {"name": "Balcony", "rows": [{"label": "101", "seats": 2, "category": "STANDARD"}]},
    ],
}


def changed(path, value):
    """GOOD with the value at `path` (a list of keys and indexes) replaced; DELETE removes it."""
    document = copy.deepcopy(GOOD)
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


DELETE = object()


def test_a_good_layout_in_layout_order():
    layout = parse_layout(GOOD)
    seats = [(layout.sections[seat.section].name, seat.row, seat.number, seat.category, seat.accessible)
             for seat in layout.seats()]
    assert seats[:4] == [("Stalls", "A", number, "PREMIUM", False) for number in (1, 2, 3, 4)]
    assert seats[4:10] == [("Stalls", "AA", 1, "STANDARD", True), ("Stalls", "AA", 2, "STANDARD", False),
                           ("Stalls", "AA", 3, "PREMIUM", False), ("Stalls", "AA", 5, "PREMIUM", False),
                           ("Stalls", "AA", 6, "STANDARD", False), ("Stalls", "AA", 7, "STANDARD", True)]
    assert seats[10:] == [("Balcony", "101", 1, "STANDARD", False), ("Balcony", "101", 2, "STANDARD", False)]
    assert layout.seat_count == 12
    assert dict(layout.sections[0].hints) == {"position": {"x": 50, "y": 20}, "curve": 0.3}


def test_the_rows_shorthand_is_one_section_of_standard_seats_at_zero():
    layout = grid(2, 3)
    assert [(seat.row, seat.number, seat.category) for seat in layout.seats()] == \
        [(row, number, "STANDARD") for row in "AB" for number in (1, 2, 3)]
    assert [category.to_json() for category in layout.categories] == [{"id": "STANDARD", "name": "Standard",
                                                                        "price": 0}]


many_sections = {**GOOD, "sections": [{"name": f"S{index}", "rows": [{"label": "A", "seats": 1, "category": "STANDARD"}]}
                                      for index in range(MAX_SECTIONS + 1)]}
too_many_seats = {**GOOD, "sections": [{"name": f"S{index}", "rows": [{"label": str(row), "seats": 1000,
                                                                        "category": "STANDARD"} for row in range(10)]}
                                       for index in range(10)] + [
    {"name": "one more", "rows": [{"label": "A", "seats": 1, "category": "STANDARD"}]}]}

BAD = [
    ("empty", {}, "currency: is required"),
    ("not an object", [], ": must be an object"),
    ("no sections", changed(["sections"], []), "sections: must have 1 to 500 entries, not 0"),
    ("no categories", changed(["categories"], []), "categories: must have 1 to 50 entries, not 0"),
    ("unknown category", changed(["sections", 0, "rows", 1, "category"], "VIP"),
     "sections[0].rows[1].category: unknown category 'VIP'"),
    ("unknown override category", changed(["sections", 0, "rows", 1, "seatCategories"], {"VIP": [1]}),
     "sections[0].rows[1].seatCategories.VIP: unknown category 'VIP'"),
    ("override of a missing seat", changed(["sections", 0, "rows", 1, "seatCategories"], {"PREMIUM": [4]}),
     "sections[0].rows[1].seatCategories.PREMIUM: seat 4 is not in this row"),
    ("repeated seat number", changed(["sections", 0, "rows", 1, "seats"], [1, 2, 7, 3, 7]),
     "sections[0].rows[1].seats: repeated number 7"),
    ("repeated row label", changed(["sections", 0, "rows", 1, "label"], "A"),
     "sections[0].rows[1].label: repeated row A"),
    ("repeated section", changed(["sections", 1, "name"], "Stalls"), "sections[1].name: repeated section 'Stalls'"),
    ("repeated category", changed(["categories", 1, "id"], "PREMIUM"), "categories[1].id: repeated category PREMIUM"),
    ("100,001 seats", too_many_seats, "sections[10].rows[0].seats: the layout has more than 100000 seats"),
    ("501 sections", many_sections, "sections: must have 1 to 500 entries, not 501"),
    ("bad currency", changed(["currency"], "euro"), "currency: must be an ISO 4217 code"),
    ("negative price", changed(["categories", 0, "price"], -1), "categories[0].price: must be between 0 and"),
    ("fractional price", changed(["categories", 0, "price"], 65.5), "categories[0].price: must be a whole number"),
    ("control characters in a section name", changed(["sections", 0, "name"], "Stalls\u0007"),
     "sections[0].name: must not contain control characters"),
    ("control characters in a category name", changed(["categories", 0, "name"], "Pre\nmium"),
     "categories[0].name: must not contain control characters"),
    ("row label with a space", changed(["sections", 0, "rows", 0, "label"], "A 1"),
     "sections[0].rows[0].label: must be 1 to 8 letters or digits"),
    ("row label of 9", changed(["sections", 0, "rows", 0, "label"], "ABCDEFGHI"),
     "sections[0].rows[0].label: must be 1 to 8 letters or digits"),
    ("seat number 0", changed(["sections", 0, "rows", 1, "seats"], [0, 1]),
     "sections[0].rows[1].seats[0]: must be between 1 and 9999, not 0"),
    ("accessible seat not in the row", changed(["sections", 0, "rows", 1, "accessible"], [4]),
     "sections[0].rows[1].accessible: seat 4 is not in this row"),
    ("a position off the plane", changed(["sections", 0, "position"], {"x": 50, "y": 101}),
     "sections[0].position.y: must be between 0 and 100"),
    ("unknown field", changed(["sections", 0, "colour"], "red"), "sections[0].colour: is not a known field"),
    ("a row without seats", changed(["sections", 0, "rows", 0, "seats"], 0),
     "sections[0].rows[0].seats: must be between 1 and 9999, not 0"),
    ("a blank section name", changed(["sections", 0, "name"], "   "), "sections[0].name: must be 1 to 64 characters"),
]


@pytest.mark.parametrize("case, document, message", BAD, ids=[case for case, _, _ in BAD])
def test_bad_layouts_name_the_first_problem(case, document, message):
    with pytest.raises(ValidationError) as refused:
        parse_layout(document)
    assert refused.value.message.startswith(message), refused.value.message


def test_the_admin_event_checks_the_layout_and_the_settings():
    event = {"name": "Gala", "startTime": "2030-06-01T20:00:00Z", "layout": GOOD, "holdMinutes": 15,
             "maxSeatsPerUser": 6}
    request = validation.show_request(event)
    assert (request.layout.seat_count, request.hold_minutes, request.max_seats_per_user) == (12, 15, 6)
    with pytest.raises(ValidationError, match="holdMinutes must be between 1 and 60"):
        validation.show_request({**event, "holdMinutes": 61})
    with pytest.raises(ValidationError, match="Unknown field: rows"):
        validation.show_request({**event, "rows": 3})
    with pytest.raises(ValidationError, match=r"sections\[0\]\.rows\[1\]\.seats: repeated number 7"):
        validation.show_request({**event, "layout": changed(["sections", 0, "rows", 1, "seats"], [7, 7])})


@pytest.mark.parametrize("name, seats, sections", [("theatre.json", 300, 3), ("concert-hall.json", 2000, 4),
                                                    ("stadium.json", 80_000, 80)])
def test_the_example_layouts_are_what_the_script_makes(name, seats, sections):
    text = (LAYOUTS / name).read_text()
    assert text == example_layouts.render(example_layouts.EXAMPLES[name]())
    layout = parse_layout(json.loads(text))
    assert (layout.seat_count, len(layout.sections)) == (seats, sections)
    assert len(text.encode()) < 1_000_000  # one create_show event, far under Lambda's 6 MB
    assert any(seat.accessible for seat in layout.seats())
