"""The example venue layouts in layouts/: a 300-seat theatre, a 2,000-seat concert hall and an
80,000-seat stadium. `python -m tools.admin.example_layouts` writes them; a test checks that
the committed files are what this script makes.

    python -m tools.admin create-show --name "Opening Night" --start 2030-05-01T19:30:00Z \\
        --layout layouts/theatre.json
"""
import json
import math
import sys
from pathlib import Path
from typing import Dict, List

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"


def _numbers(first: int, last: int, aisles_after=()) -> List[int]:
    """Seat numbers first..last with a number skipped after each of `aisles_after` (an aisle)."""
    numbers, skip = [], 0
    for number in range(first, last + 1):
        numbers.append(number + skip)
        if number in aisles_after:
            skip += 1
    return numbers


def theatre() -> dict:
    """Stalls, circle and balcony; aisles down the middle; wheelchair places at the row ends."""
    stalls = [{"label": label, "seats": _numbers(1, 20, aisles_after=(10,)),
               "category": "PREMIUM" if label in "ABCD" else "STANDARD"} for label in "ABCDEFGH"]
    stalls[-1]["accessible"] = [1, 2, 20, 21]
    circle = [{"label": label, "seats": _numbers(1, 18, aisles_after=(9,)), "category": "STANDARD"}
              for label in "ABCDE"]
    circle[0].update(seatCategories={"PREMIUM": [8, 9, 11, 12]}, accessible=[1, 19])
    balcony = [{"label": label, "seats": 25, "category": "RESTRICTED"} for label in "AB"]
    return {
        "currency": "EUR",
        "categories": [{"id": "PREMIUM", "name": "Premium", "price": 6500},
                       {"id": "STANDARD", "name": "Standard", "price": 4000},
                       {"id": "RESTRICTED", "name": "Restricted view", "price": 1800}],
        "sections": [{"name": "Stalls", "position": {"x": 50, "y": 30}, "curve": 0.2, "rows": stalls},
                     {"name": "Circle", "position": {"x": 50, "y": 62}, "curve": 0.3, "rows": circle},
                     {"name": "Balcony", "position": {"x": 50, "y": 88}, "curve": 0.35, "rows": balcony}],
    }


def concert_hall() -> dict:
    """2,000 seats: a parterre with two aisles, two side balconies and a gallery."""
    parterre = [{"label": str(row), "seats": _numbers(1, 40, aisles_after=(10, 30)),
                 "category": "A" if row <= 8 else "B"} for row in range(1, 21)]
    parterre[-1]["accessible"] = [1, 2, 41, 42]
    side = [{"label": str(row), "seats": 30, "category": "B"} for row in range(1, 11)]
    gallery = [{"label": str(row), "seats": _numbers(1, 50, aisles_after=(25,)), "category": "C"}
               for row in range(1, 13)]
    return {
        "currency": "EUR",
        "categories": [{"id": "A", "name": "Category A", "price": 9500},
                       {"id": "B", "name": "Category B", "price": 6500},
                       {"id": "C", "name": "Category C", "price": 3500}],
        "sections": [{"name": "Parterre", "position": {"x": 50, "y": 35}, "curve": 0.15, "rows": parterre},
                     {"name": "Left balcony", "position": {"x": 12, "y": 55}, "rotation": 60, "rows": side},
                     {"name": "Right balcony", "position": {"x": 88, "y": 55}, "rotation": -60, "rows": side},
                     {"name": "Gallery", "position": {"x": 50, "y": 85}, "curve": 0.25, "rows": gallery}],
    }


def stadium() -> dict:
    """80,000 seats: 80 blocks of 25 rows x 40 seats in two rings around the pitch, with the
    stage at the north end. Blocks nearer the stage come first; rows given as counts keep the
    whole layout about 130 KB, far under Lambda's 6 MB event."""
    blocks = []
    for ring, (radius_x, radius_y, count) in enumerate(((30, 26, 32), (46, 44, 48))):
        for index in range(count):
            angle = 2 * math.pi * index / count  # 0 = north, next to the stage
            blocks.append({"ring": ring, "angle": angle,
                           "x": round(50 + radius_x * math.sin(angle), 1),
                           "y": round(50 - radius_y * math.cos(angle), 1)})
    # Nearest the stage first: by distance from the stage at the top centre.
    blocks.sort(key=lambda block: (math.hypot(block["x"] - 50, block["y"]), block["x"]))
    sections = []
    for number, block in enumerate(blocks, start=1):
        level = 100 * (block["ring"] + 1) + number
        category = "FLOOR" if number <= 16 else "LOWER" if block["ring"] == 0 else "UPPER"
        rows = [{"label": str(row), "seats": 40, "category": category} for row in range(1, 26)]
        if block["ring"] == 0:
            rows[-1]["accessible"] = [1, 2, 39, 40]
        sections.append({"name": f"Block {level}", "position": {"x": block["x"], "y": block["y"]},
                         "rotation": round(math.degrees(block["angle"]), 1), "rows": rows})
    return {
        "currency": "EUR",
        "categories": [{"id": "FLOOR", "name": "Front blocks", "price": 12000},
                       {"id": "LOWER", "name": "Lower ring", "price": 8000},
                       {"id": "UPPER", "name": "Upper ring", "price": 4500}],
        "sections": sections,
    }


EXAMPLES = {"theatre.json": theatre, "concert-hall.json": concert_hall, "stadium.json": stadium}


def render(layout: dict) -> str:
    """JSON with one row per line: readable and diffable, without a line per seat."""
    rows: Dict[str, str] = {}

    def placeholder(row: dict) -> str:
        key = f"@@row{len(rows)}@@"
        rows[key] = json.dumps(row, separators=(", ", ": "))
        return key

    shaped = {**layout, "sections": [{**section, "rows": [placeholder(row) for row in section["rows"]]}
                                     for section in layout["sections"]]}
    text = json.dumps(shaped, indent=2)
    for key, row in rows.items():
        text = text.replace(f'"{key}"', row)
    return text + "\n"


def main() -> int:
    LAYOUTS.mkdir(exist_ok=True)
    for name, make in EXAMPLES.items():
        (LAYOUTS / name).write_text(render(make()))
        print(f"wrote {LAYOUTS / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
