"""Pages of the show list: what a request asks for (`ShowsQuery`), what it gets (`ShowsPage`),
and the opaque cursor between two pages. Nothing here does I/O.

Pages are cut by keyset, not by offset: a cursor is the position (start time, id) of the last
show of a page, and the next page starts strictly after it in the listing's order. Shows
added or removed meanwhile never make a page repeat or skip one, and a page costs the same
however deep it is. Upcoming shows are listed soonest first; past ones (`?past=true`, the
history) most recent first, since that is the end people look for.
"""
import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Tuple

from .errors import ValidationError
from .model import Show

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class ShowPosition:
    """Where a show stands in a listing: by start time, ties by id."""
    start_time: datetime
    show_id: uuid.UUID


@dataclass(frozen=True)
class ShowsQuery:
    past: bool = False  # False: shows still to start; True: shows that have started, latest first
    limit: int = DEFAULT_PAGE_SIZE
    after: Optional[ShowPosition] = None  # the last show of the previous page


@dataclass(frozen=True)
class ShowsPage:
    shows: Tuple[Show, ...]
    past: bool
    next_after: Optional[ShowPosition]  # None on the last page

    def to_json(self) -> dict:
        cursor = encode_cursor(self.past, self.next_after) if self.next_after else None
        return {"shows": [show.to_json() for show in self.shows], "nextCursor": cursor}


# The cursor names its listing, so that one from the upcoming list is refused on the history
# rather than silently starting it at the wrong end.
_LISTINGS = {False: "upcoming", True: "past"}


def encode_cursor(past: bool, position: ShowPosition) -> str:
    """Opaque to clients: URL-safe base64 of ["upcoming" | "past", start time, show id]."""
    raw = json.dumps([_LISTINGS[past], position.start_time.isoformat(), str(position.show_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(past: bool, cursor: str) -> ShowPosition:
    """The position a cursor of `encode_cursor` names, or ValidationError for anything else."""
    problem = ValidationError("cursor is not one this listing gave out; start again without it.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        listing, start_time, show_id = json.loads(raw.decode())
        position = ShowPosition(datetime.fromisoformat(start_time), uuid.UUID(show_id))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, AttributeError):
        raise problem from None
    if listing != _LISTINGS[past] or position.start_time.tzinfo is None:
        raise problem
    return position
