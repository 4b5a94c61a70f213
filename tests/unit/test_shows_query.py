"""`GET /shows`'s query string and its cursor: what is accepted, and that anything else is a
VALIDATION_ERROR rather than a wrong page."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib import services
from chalicelib.errors import ValidationError
from chalicelib.layout import grid
from chalicelib.listing import DEFAULT_PAGE_SIZE, ShowPosition, ShowsQuery, decode_cursor, encode_cursor
from chalicelib.validation import ShowRequest, shows_query
from tests.support.fakes import FakeDatabase

POSITION = ShowPosition(datetime(2030, 5, 1, 18, 0, 0, 123456, tzinfo=timezone.utc),
                        uuid.UUID("6f1c1e7e-9a57-4a43-9d5e-2f7b1f0c6a11"))


def test_defaults_are_upcoming_first_page_of_fifty():
    assert shows_query(None) == shows_query({}) == ShowsQuery(past=False, limit=DEFAULT_PAGE_SIZE, after=None)
    assert DEFAULT_PAGE_SIZE == 50


def test_past_limit_and_cursor_are_read():
    cursor = encode_cursor(True, POSITION)
    assert shows_query({"past": "true", "limit": "100", "cursor": cursor}) == ShowsQuery(True, 100, POSITION)
    assert shows_query({"past": "false", "limit": "1"}) == ShowsQuery(False, 1, None)
    assert shows_query({"utm_source": "mail"}) == ShowsQuery()  # other parameters are ignored


def test_a_cursor_round_trips_to_the_microsecond():
    for past in (False, True):
        cursor = encode_cursor(past, POSITION)
        assert decode_cursor(past, cursor) == POSITION
        assert cursor.isascii() and "=" not in cursor and "/" not in cursor and "+" not in cursor  # URL-safe as is


@pytest.mark.parametrize("params", [
    {"past": "yes"}, {"past": "True"}, {"past": ""}, {"past": "1"},
    {"limit": "0"}, {"limit": "101"}, {"limit": "-1"}, {"limit": "ten"}, {"limit": ""}, {"limit": "1.5"},
    {"limit": "٣"},  # a digit, but not an ASCII one
    {"limit": "1" * 5000},  # longer than Python turns into an int
    {"cursor": ""}, {"cursor": "not a cursor"}, {"cursor": "x" * 300},
    {"cursor": "W10"},  # base64 of []
    {"cursor": "WyJ1cGNvbWluZyIsICJub3QgYSB0aW1lIiwgIngiXQ"},  # ["upcoming", "not a time", "x"]
])
def test_bad_values_are_validation_errors(params):
    with pytest.raises(ValidationError):
        shows_query(params)


def test_a_cursor_from_one_listing_is_refused_by_the_other():
    with pytest.raises(ValidationError, match="cursor"):
        shows_query({"past": "true", "cursor": encode_cursor(False, POSITION)})
    with pytest.raises(ValidationError, match="cursor"):
        shows_query({"cursor": encode_cursor(True, POSITION)})


def test_a_cursor_without_a_time_zone_is_refused():
    naive = ShowPosition(POSITION.start_time.replace(tzinfo=None), POSITION.show_id)
    with pytest.raises(ValidationError):
        decode_cursor(False, encode_cursor(False, naive))


def test_a_page_says_where_the_next_starts_only_when_there_is_more():
    database = FakeDatabase()
    start = datetime.now(timezone.utc) + timedelta(days=1)
    shows = [services.create_show(ShowRequest(f"Night {index}", start + timedelta(hours=index), grid(1, 1)),
                                  uow=database) for index in range(3)]
    first = services.list_shows(ShowsQuery(limit=2), uow=database)
    assert [show.id for show in first.shows] == [show.id for show in shows[:2]]
    assert first.next_after == ShowPosition(shows[1].start_time, shows[1].id)
    assert first.to_json()["nextCursor"] == encode_cursor(False, first.next_after)
    last = services.list_shows(ShowsQuery(limit=2, after=first.next_after), uow=database)
    assert [show.id for show in last.shows] == [shows[2].id]
    assert last.next_after is None and last.to_json()["nextCursor"] is None
    exact = services.list_shows(ShowsQuery(limit=3), uow=database)
    assert len(exact.shows) == 3 and exact.next_after is None  # a full last page has no next one
