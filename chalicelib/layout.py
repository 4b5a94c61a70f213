"""Venue layouts: the `Layout` document of a show's room, checked into typed values.

A layout lists sections nearest the stage first, each with rows nearest the stage first. A
row's `seats` is a count (numbered 1..n) or a list of distinct positive numbers; a missing
number is a gap (an aisle), so seats are adjacent only when their numbers are consecutive.
Each row has a category; `seatCategories` overrides it for some seats, and `accessible`
lists wheelchair places. Sections may carry drawing hints for the seat map: `position`
({"x", "y"} in 0..100, the section's centre on a plane with the stage at the top centre),
`rotation` (degrees) and `curve` (0..1, how much rows bend around the stage).

An 80,000-seat stadium is a few thousand rows of counts: well under Lambda's 6 MB event.
Problems are reported one at a time, with the path of the first one:
`sections[2].rows[5].seats: repeated number 7`. Nothing here does I/O.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterator, List, Mapping, Optional, Tuple

from .errors import ValidationError

MAX_SEATS = 100_000
MAX_SECTIONS = 500
MAX_CATEGORIES = 50
MAX_PRICE = 100_000_000  # minor units: a million euros is not a ticket price
MAX_SEAT_NUMBER = 9_999
MAX_NAME_LENGTH = 64
ROW_LABEL = re.compile(r"[A-Za-z0-9]{1,8}")
CATEGORY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
CURRENCY = re.compile(r"[A-Z]{3}")
STANDARD = "STANDARD"


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    price: int  # minor units of the layout's currency

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "price": self.price}


@dataclass(frozen=True)
class Row:
    label: str
    numbers: Tuple[int, ...]  # ascending; a missing number is an aisle
    category: str
    accessible: FrozenSet[int] = frozenset()
    seat_categories: Mapping[int, str] = field(default_factory=dict)

    def category_of(self, number: int) -> str:
        return self.seat_categories.get(number, self.category)


@dataclass(frozen=True)
class Section:
    name: str
    rows: Tuple[Row, ...]
    hints: Mapping[str, object] = field(default_factory=dict)  # position, rotation, curve


@dataclass(frozen=True)
class LayoutSeat:
    section: int  # index in the layout
    row: str
    number: int
    category: str
    accessible: bool


@dataclass(frozen=True)
class Layout:
    currency: str
    categories: Tuple[Category, ...]
    sections: Tuple[Section, ...]

    @property
    def seat_count(self) -> int:
        return sum(len(row.numbers) for section in self.sections for row in section.rows)

    def seats(self) -> Iterator[LayoutSeat]:
        """Every seat in layout order: section, row, number."""
        for index, section in enumerate(self.sections):
            for row in section.rows:
                for number in row.numbers:
                    yield LayoutSeat(index, row.label, number, row.category_of(number), number in row.accessible)


def grid(rows: int, seats_per_row: int, currency: str = "EUR") -> Layout:
    """The one-section shorthand: rows A, B, C…, seats numbered from 1, one STANDARD category at 0."""
    return Layout(currency, (Category(STANDARD, "Standard", 0),),
                  (Section("Main", tuple(Row(chr(ord("A") + index), tuple(range(1, seats_per_row + 1)), STANDARD)
                                         for index in range(rows))),))


# ------------------------------------------------------------------------------ parsing

def _fail(path: str, reason: str):
    raise ValidationError(f"{path}: {reason}")


def _object(value, path: str, required: Tuple[str, ...], optional: Tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        _fail(path, "must be an object")
    for name in required:
        if name not in value:
            _fail(f"{path}.{name}" if path else name, "is required")
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        _fail(f"{path}.{unknown[0]}" if path else unknown[0], "is not a known field")
    return value


def _list(value, path: str, low: int, high: int) -> list:
    if not isinstance(value, list):
        _fail(path, "must be a list")
    if not low <= len(value) <= high:
        _fail(path, f"must have {low} to {high} entries, not {len(value)}")
    return value


def _integer(value, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(path, "must be a whole number")
    if not low <= value <= high:
        _fail(path, f"must be between {low} and {high}, not {value}")
    return value


def _number(value, path: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        _fail(path, "must be a number")
    if not low <= value <= high:
        _fail(path, f"must be between {low} and {high}")
    return value


def _name(value, path: str) -> str:
    if not isinstance(value, str):
        _fail(path, "must be a string")
    if not 1 <= len(value) <= MAX_NAME_LENGTH or not value.strip():
        _fail(path, f"must be 1 to {MAX_NAME_LENGTH} characters, not blank")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
        _fail(path, "must not contain control characters")
    return value


def _pattern(value, path: str, pattern: "re.Pattern", what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        _fail(path, f"must be {what}")
    return value


def _distinct_numbers(value, path: str, within: Optional[FrozenSet[int]] = None) -> List[int]:
    numbers = [_integer(number, f"{path}[{index}]", 1, MAX_SEAT_NUMBER) for index, number in enumerate(value)]
    seen = set()
    for number in numbers:
        if number in seen:
            _fail(path, f"repeated number {number}")
        if within is not None and number not in within:
            _fail(path, f"seat {number} is not in this row")
        seen.add(number)
    return numbers


def _categories(value) -> Dict[str, Category]:
    categories: Dict[str, Category] = {}
    for index, entry in enumerate(_list(value, "categories", 1, MAX_CATEGORIES)):
        path = f"categories[{index}]"
        _object(entry, path, ("id", "name", "price"))
        category_id = _pattern(entry["id"], f"{path}.id", CATEGORY_ID, "1 to 32 letters, digits, - or _")
        if category_id in categories:
            _fail(f"{path}.id", f"repeated category {category_id}")
        categories[category_id] = Category(category_id, _name(entry["name"], f"{path}.name"),
                                           _integer(entry["price"], f"{path}.price", 0, MAX_PRICE))
    return categories


def _hints(entry: dict, path: str) -> dict:
    hints = {}
    if "position" in entry:
        position = _object(entry["position"], f"{path}.position", ("x", "y"))
        hints["position"] = {axis: _number(position[axis], f"{path}.position.{axis}", 0, 100) for axis in ("x", "y")}
    if "rotation" in entry:
        hints["rotation"] = _number(entry["rotation"], f"{path}.rotation", -360, 360)
    if "curve" in entry:
        hints["curve"] = _number(entry["curve"], f"{path}.curve", 0, 1)
    return hints


def _row(entry, path: str, categories: Mapping[str, Category], seats_left: int) -> Row:
    _object(entry, path, ("label", "seats", "category"), ("accessible", "seatCategories"))
    label = _pattern(entry["label"], f"{path}.label", ROW_LABEL, "1 to 8 letters or digits")
    seats = entry["seats"]
    if isinstance(seats, list):
        numbers = sorted(_distinct_numbers(_list(seats, f"{path}.seats", 1, MAX_SEAT_NUMBER), f"{path}.seats"))
    else:
        numbers = list(range(1, _integer(seats, f"{path}.seats", 1, MAX_SEAT_NUMBER) + 1))
    if len(numbers) > seats_left:
        _fail(f"{path}.seats", f"the layout has more than {MAX_SEATS} seats")
    category = entry["category"]
    if category not in categories:
        _fail(f"{path}.category", f"unknown category {str(category)[:40]!r}")
    in_row = frozenset(numbers)
    accessible = frozenset(_distinct_numbers(_list(entry.get("accessible", []), f"{path}.accessible", 0, len(numbers)),
                                             f"{path}.accessible", in_row))
    seat_categories: Dict[int, str] = {}
    overrides = entry.get("seatCategories", {})
    if not isinstance(overrides, dict):
        _fail(f"{path}.seatCategories", "must be an object of category id -> seat numbers")
    for override, listed in overrides.items():
        override_path = f"{path}.seatCategories.{override}"
        if override not in categories:
            _fail(override_path, f"unknown category {override[:40]!r}")
        for number in _distinct_numbers(_list(listed, override_path, 1, len(numbers)), override_path, in_row):
            if number in seat_categories:
                _fail(override_path, f"seat {number} already has category {seat_categories[number]}")
            seat_categories[number] = override
    return Row(label, tuple(numbers), category, accessible, seat_categories)


def _section(entry, path: str, categories: Mapping[str, Category], seats_left: int) -> Section:
    _object(entry, path, ("name", "rows"), ("position", "rotation", "curve"))
    name = _name(entry["name"], f"{path}.name")
    rows, labels = [], set()
    for index, row_entry in enumerate(_list(entry["rows"], f"{path}.rows", 1, MAX_SEATS)):
        row = _row(row_entry, f"{path}.rows[{index}]", categories, seats_left)
        if row.label in labels:
            _fail(f"{path}.rows[{index}].label", f"repeated row {row.label}")
        labels.add(row.label)
        seats_left -= len(row.numbers)
        rows.append(row)
    return Section(name, tuple(rows), _hints(entry, path))


def parse_layout(document) -> Layout:
    """A Layout from its JSON document, or ValidationError naming the first problem by path."""
    _object(document, "", ("currency", "categories", "sections"))
    currency = _pattern(document["currency"], "currency", CURRENCY, "an ISO 4217 code such as EUR")
    categories = _categories(document["categories"])
    sections, names, seats_left = [], set(), MAX_SEATS
    for index, entry in enumerate(_list(document["sections"], "sections", 1, MAX_SECTIONS)):
        section = _section(entry, f"sections[{index}]", categories, seats_left)
        if section.name in names:
            _fail(f"sections[{index}].name", f"repeated section {section.name!r}")
        names.add(section.name)
        seats_left -= sum(len(row.numbers) for row in section.rows)
        sections.append(section)
    return Layout(currency, tuple(categories.values()), tuple(sections))
