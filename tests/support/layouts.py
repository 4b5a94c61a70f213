"""The example venue layouts in layouts/, parsed."""
import json
from pathlib import Path

from chalicelib.layout import Layout, parse_layout

EXAMPLE_LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"


def example_layout(name: str) -> Layout:
    """One of layouts/*.json by name: "theatre", "concert-hall", "stadium"."""
    return parse_layout(json.loads((EXAMPLE_LAYOUTS / f"{name}.json").read_text()))
