"""The time-budget arithmetic (chalicelib/budget.py): every wait fits in what the invocation
has left, less the margin for answering."""
import pytest

from chalicelib import budget
from chalicelib.errors import Unavailable


class Context:
    def __init__(self, remaining_ms):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


def test_the_deadline_is_the_earlier_of_the_function_and_the_gateway_less_the_margin():
    assert budget.deadline_in_ms(3_000) == 3_000 - budget.ANSWER_MARGIN_MS
    # A function allowed 60 s still answers before API Gateway's 29 s ...
    assert budget.deadline_in_ms(60_000) == 29_000 - budget.ANSWER_MARGIN_MS
    # ... counted from when the gateway received the request.
    assert budget.deadline_in_ms(60_000, gateway_elapsed_ms=4_000) == 25_000 - budget.ANSWER_MARGIN_MS


def test_outside_an_invocation_the_configured_timeouts_apply():
    assert budget.left_ms() is None
    assert budget.socket_timeout_s(2.0, None) == 2.0
    assert budget.socket_timeout_s(7.0, None) == 7.0
    assert budget.transaction_timeouts(5_000, 2_000, None) == (5_000, 2_000)


def test_an_invocation_sets_the_time_left_and_restores_it():
    with budget.invocation(Context(3_000)):
        left = budget.left_ms()
        assert 3_000 - budget.ANSWER_MARGIN_MS - 50 < left <= 3_000 - budget.ANSWER_MARGIN_MS
    assert budget.left_ms() is None


def test_a_context_without_a_clock_sets_no_budget():
    with budget.invocation(None):
        assert budget.left_ms() is None
    with budget.invocation(object()):
        assert budget.left_ms() is None


def test_the_gateway_clock_counts_from_the_request_time(monkeypatch):
    monkeypatch.setattr(budget.time, "time", lambda: 1_000.0)
    with budget.invocation(Context(60_000), request_time_epoch_ms=1_000_000 - 10_000):
        assert budget.left_ms() == pytest.approx(19_000 - budget.ANSWER_MARGIN_MS, abs=50)


def test_connect_and_read_timeouts_are_cut_to_the_time_left():
    assert budget.socket_timeout_s(2.0, 1_500) == 1.5
    assert budget.socket_timeout_s(2.0, 10_000) == 2.0
    assert budget.socket_timeout_s(7.0, 2_500) == 2.5


def test_statement_timeout_ends_before_the_socket_gives_up():
    statement, lock = budget.transaction_timeouts(5_000, 2_000, 1_000)
    assert statement == 1_000 - budget.SERVER_CANCEL_MS
    assert lock == statement  # a lock wait is a statement's wait: never longer
    assert budget.transaction_timeouts(5_000, 2_000, 60_000) == (5_000, 2_000)


@pytest.mark.parametrize("wait", [
    lambda left: budget.socket_timeout_s(2.0, left),
    lambda left: budget.socket_timeout_s(7.0, left),
    lambda left: budget.transaction_timeouts(5_000, 2_000, left),
    lambda left: budget.secret_client_limits(left),
])
def test_with_no_time_left_nothing_waits_and_the_answer_is_unavailable(wait):
    with pytest.raises(Unavailable):
        wait(budget.MIN_WAIT_MS - 1)
    with pytest.raises(Unavailable):
        wait(-200)


def test_the_secret_read_gets_two_attempts_when_they_fit_in_its_share():
    connect, read, attempts = budget.secret_client_limits(14_500)  # a cold start of a 15 s function
    assert (connect, read, attempts) == (budget.SECRET_CONNECT_S, budget.SECRET_READ_S, 2)
    worst_s = attempts * (connect + read) + budget.SECRET_BACKOFF_MAX_S
    assert worst_s <= budget.SECRET_SHARE * 14.5


@pytest.mark.parametrize("left_ms", [600, 2_000, 5_000, 13_000])
def test_a_short_budget_gets_one_shortened_attempt_within_its_share(left_ms):
    connect, read, attempts = budget.secret_client_limits(left_ms)
    assert attempts == 1
    assert connect + read <= budget.SECRET_SHARE * left_ms / 1000 + 1e-9


def test_a_cold_start_with_the_secret_fits_the_api_function():
    """Secret (worst case), then connect and one statement, inside a 15 s function's budget."""
    left_ms = budget.deadline_in_ms(15_000)
    connect, read, attempts = budget.secret_client_limits(left_ms)
    secret_s = attempts * (connect + read) + (budget.SECRET_BACKOFF_MAX_S if attempts > 1 else 0)
    database_s = 2.0 + 5.0  # DB_CONNECT_TIMEOUT_S and DB_STATEMENT_TIMEOUT_MS of .chalice/config.json
    assert secret_s + database_s <= left_ms / 1000
