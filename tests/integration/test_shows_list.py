"""`GET /shows` on real PostgreSQL: upcoming shows only, soonest first; `?past=true` the shows
that have started, latest first; pages cut by keyset, so walking them gives every show once."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from chalice.test import Client

from app import app
from chalicelib import services
from chalicelib.listing import ShowPosition, ShowsQuery
from chalicelib.queries import QUERIES
from chalicelib.validation import booking_request


@pytest.fixture(scope="module")
def client():
    with Client(app) as client:
        yield client


def walk(past, limit=100, after=None):
    """Every show of a listing, page by page: (shows in order, the number of pages)."""
    shows, pages = [], 0
    query = ShowsQuery(past=past, limit=limit, after=after)
    while True:
        page = services.list_shows(query)
        pages += 1
        assert len(page.shows) <= limit
        shows.extend(page.shows)
        if page.next_after is None:
            return shows, pages
        assert len(page.shows) == limit  # only a full page has a next one
        query = ShowsQuery(past=past, limit=limit, after=page.next_after)


@pytest.fixture
def far_shows(make_show):
    """Five shows ten years ahead, in a window of their own, two of them at the same instant."""
    offset = timedelta(days=3650, minutes=uuid.uuid4().int % 100_000)
    starts = [offset, offset + timedelta(hours=1), offset + timedelta(hours=1), offset + timedelta(hours=2),
              offset + timedelta(hours=3)]
    return [make_show(rows=1, seats_per_row=2, starts_in=start) for start in starts]


def position_before(show):
    return ShowPosition(show.start_time - timedelta(microseconds=1), uuid.UUID(int=0))


def test_upcoming_pages_walk_the_shows_in_order(far_shows):
    expected = sorted(far_shows, key=lambda show: (show.start_time, show.id))
    listed, pages = [], 0
    query = ShowsQuery(limit=2, after=position_before(expected[0]))
    while len(listed) < len(expected):
        page = services.list_shows(query)
        listed.extend(page.shows)
        pages += 1
        query = ShowsQuery(limit=2, after=page.next_after)
    assert [show.id for show in listed[:len(expected)]] == [show.id for show in expected]
    assert pages == 3  # 2 + 2 + 1: the tie at one instant is split across pages by id, no repeat


def test_past_shows_only_with_past_and_latest_first(make_show, sql):
    ago = timedelta(days=3650, minutes=uuid.uuid4().int % 100_000)
    past = [make_show(rows=1, seats_per_row=2) for _ in range(3)]
    for index, show in enumerate(past):
        sql("UPDATE shows SET start_time = now() - CAST(:ago AS interval) + make_interval(hours => :index) WHERE id = :id",
            ago=ago, index=index, id=show.id)
    just_started = make_show(rows=1, seats_per_row=2)
    sql("UPDATE shows SET start_time = now() - interval '1 millisecond' WHERE id = :id", id=just_started.id)
    past_ids = {show.id for show in past} | {just_started.id}

    upcoming, _ = walk(past=False)
    now = datetime.now(timezone.utc)
    assert all(show.start_time > now for show in upcoming)
    assert not past_ids & {show.id for show in upcoming}
    assert [(s.start_time, s.id) for s in upcoming] == sorted((s.start_time, s.id) for s in upcoming)

    history, pages = walk(past=True, limit=3)
    assert pages > 1
    assert all(show.start_time <= now for show in history)
    assert past_ids <= {show.id for show in history}
    assert [(s.start_time, s.id) for s in history] == sorted(((s.start_time, s.id) for s in history), reverse=True)
    listed_past = [show.id for show in history if show.id in past_ids]
    assert listed_past == [just_started.id] + [show.id for show in reversed(past)]


def test_every_show_is_in_exactly_one_listing(make_show):
    make_show(rows=1, seats_per_row=2)
    upcoming, _ = walk(past=False, limit=7)
    history, _ = walk(past=True, limit=7)
    ids = [show.id for show in upcoming + history]
    assert len(ids) == len(set(ids))
    # The same listings in one page each (100 at most, more pages when there are more shows).
    assert ids == [show.id for show in walk(past=False)[0] + walk(past=True)[0]]


def test_listed_shows_count_what_is_taken(far_shows):
    show = far_shows[0]
    seat = services.seat_map(show.id).seats[0][0]
    services.book_seats(show.id, booking_request(f'{{"userId": "ann", "seatIds": ["{seat.id}"]}}'.encode()))
    listed = services.list_shows(ShowsQuery(limit=1, after=position_before(show))).shows[0]
    assert listed == services.get_show(show.id)
    assert (listed.available_seats, listed.total_seats) == (1, 2)


def test_the_http_answer_pages_with_an_opaque_cursor(client, far_shows):
    answer = client.http.get("/shows?limit=2")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    first = answer.json_body
    assert set(first) == {"shows", "nextCursor"} and len(first["shows"]) <= 2
    seen = [show["id"] for show in first["shows"]]
    cursor = first["nextCursor"]
    while cursor:
        page = client.http.get(f"/shows?limit=2&cursor={cursor}").json_body
        seen += [show["id"] for show in page["shows"]]
        cursor = page["nextCursor"]
    assert len(seen) == len(set(seen))
    assert seen == [str(show.id) for show in walk(past=False)[0]]
    assert {str(show.id) for show in far_shows} <= set(seen)


@pytest.mark.parametrize("query", ["past=yes", "limit=0", "limit=101", "limit=x", "cursor=garbage",
                                   "cursor=" + "A" * 300])
def test_bad_query_values_are_400(client, query):
    answer = client.http.get(f"/shows?{query}")
    assert answer.status_code == 400
    assert answer.json_body["error"] == "VALIDATION_ERROR" and answer.json_body["message"]


def test_an_upcoming_cursor_is_refused_on_the_history(client, far_shows):
    cursor = client.http.get("/shows?limit=1").json_body["nextCursor"]
    assert cursor
    answer = client.http.get(f"/shows?past=true&cursor={cursor}")
    assert answer.status_code == 400 and "cursor" in answer.json_body["message"]


def test_a_page_reads_the_start_time_index(sql):
    """The cursor bounds the index scan itself, so a page never reads the shows before it,
    however many there are (seq scans off: the question is whether the index can serve)."""
    sql("SET enable_seqscan = off")
    after = datetime(2031, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    for past, bound in ((False, ">="), (True, "<=")):
        plan = "\n".join(row[0] for row in sql("EXPLAIN " + QUERIES["list_shows"], past=past, after_time=after,
                                                 after_id=uuid.uuid4(), page_size=51))
        index_conditions = [line for line in plan.splitlines() if "Index Cond:" in line and "start_time" in line]
        assert "shows_start_time_idx" in plan and "Seq Scan on shows" not in plan, plan
        assert any(f"start_time {bound} '2031-01-02 03:04:05+00'" in line for line in index_conditions), plan
