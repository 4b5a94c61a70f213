"""Modex HTTP API and admin functions. Routes only: parse, call one service, return."""
import functools
import logging
import time

from chalice import Chalice, Rate, Response

from chalicelib import budget, cleanup, holds, observability, schema, services, validation
from chalicelib.errors import MethodNotAllowed, ModexError, UnsupportedMediaType, as_lambda_error

app = Chalice(app_name="modex")
app.log.setLevel(logging.INFO)

# Domain outcome -> HTTP, in one place: error code -> (status, extra headers).
HTTP_ANSWERS = {
    "VALIDATION_ERROR": (400, {}),
    "UNAUTHORIZED": (401, {}),
    "FORBIDDEN": (403, {}),
    "NOT_FOUND": (404, {}),
    "METHOD_NOT_ALLOWED": (405, {}),
    "SEAT_UNAVAILABLE": (409, {}),
    "SHOW_STARTED": (409, {}),
    "HOLD_EXPIRED": (409, {}),
    "LIMIT_REACHED": (409, {}),
    "NOT_ENOUGH_SEATS": (409, {}),
    "PAYLOAD_TOO_LARGE": (413, {}),
    "UNSUPPORTED_MEDIA_TYPE": (415, {}),
    "IDEMPOTENCY_KEY_REUSED": (422, {}),
    "UNAVAILABLE": (503, {"Retry-After": "1"}),
}
CREATED = 201
NOT_MODIFIED = 304

# Chalice's own refusals, reshaped into the contract's {"error", "message"}.
CHALICE_ERRORS = {
    "MethodNotAllowedError": ("METHOD_NOT_ALLOWED", MethodNotAllowed.default_message),
    "UnsupportedMediaType": ("UNSUPPORTED_MEDIA_TYPE", UnsupportedMediaType.default_message),
    "BadRequestError": ("VALIDATION_ERROR", "The request is malformed."),
    "NotFoundError": ("NOT_FOUND", "Not found."),
    "InternalServerError": ("INTERNAL_ERROR", "Something went wrong on our side."),
}


def error_response(error: ModexError) -> Response:
    status, headers = HTTP_ANSWERS[error.code]
    return Response(body=error.body(), status_code=status, headers=dict(headers))


@app.middleware("http")
def log_request(event, get_response):
    """Outermost, so it sees the final answer: one JSON line per request with its metrics
    (chalicelib/observability.py)."""
    started = time.monotonic()
    notes = observability.start_request()
    response = get_response(event)
    request_context = event.context or {}
    path_ids = {f"{name[:-3]}Id": value for name, value in (event.uri_params or {}).items() if name.endswith("_id")}
    observability.write({**observability.request_record(
        method=event.method, route=request_context.get("resourcePath"), status=response.status_code,
        outcome=observability.outcome_of(response.status_code, response.body),
        latency_ms=(time.monotonic() - started) * 1000,
        request_id=getattr(app.lambda_context, "aws_request_id", None),
        api_request_id=request_context.get("requestId"), show_id=path_ids.pop("showId", None)), **path_ids, **notes})
    return response


@app.middleware("http")
def within_time_budget(event, get_response):
    """Every database wait of the request ends before Lambda's or API Gateway's timeout, so an
    unreachable database is the contract's 503, not the gateway's (chalicelib/budget.py)."""
    with budget.invocation(app.lambda_context, (event.context or {}).get("requestTimeEpoch")):
        return get_response(event)


@app.middleware("http")
def contract_error_shape(event, get_response):
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code, message = CHALICE_ERRORS.get(body["Code"], CHALICE_ERRORS["InternalServerError"])
        response.body = {"error": code, "message": message}
        response.headers["Content-Type"] = "application/json"
    return response


@app.middleware("http")
def json_content_type(event, get_response):
    """Every answer with a body is JSON, and says so: Chalice leaves the header out (API
    Gateway would add it, the local server would not)."""
    response = get_response(event)
    if response.body not in ("", None) and "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"
    return response


def api_route(path, **options):
    """`app.route` whose view may raise ModexError: the one place errors become HTTP."""

    def decorator(view):
        @functools.wraps(view)
        def handler(**params):
            try:
                validation.check_body_size(app.current_request.raw_body)
                return view(**params)
            except ModexError as error:
                response = error_response(error)
                if response.status_code >= 500:
                    # Logged once, in the request's JSON line (log_request).
                    observability.note(cause=repr(error.__cause__ or error.message))
                return response

        return app.route(path, **options)(handler)

    return decorator


@api_route("/shows")
def list_shows():
    query = validation.shows_query(app.current_request.query_params)
    return services.list_shows(query).to_json()


@api_route("/shows/{show_id}")
def get_show(show_id):
    return services.get_show(validation.show_id(show_id)).to_json()


# How long a CDN and browsers may keep a read: the seat list is revalidated every time, the
# availability string for a second (the crowd reads it from the CDN), the layout for good.
SEATS_CACHE = "no-cache"
AVAILABILITY_CACHE = "public, max-age=1"
LAYOUT_CACHE = "public, max-age=31536000, immutable"


def conditional_answer(value, cache_control: str) -> Response:
    """200 with the value's JSON, or 304 when If-None-Match names its version."""
    etag = f'"{value.version}"'
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if validation.etag_matches(app.current_request.headers.get("if-none-match"), etag):
        return Response(body="", status_code=NOT_MODIFIED, headers=headers)
    return Response(body=value.to_json(), headers=headers)


@api_route("/shows/{show_id}/seats")
def get_seat_map(show_id):
    section = validation.section_name((app.current_request.query_params or {}).get("section"))
    return conditional_answer(services.seat_map(validation.show_id(show_id), section), SEATS_CACHE)


@api_route("/shows/{show_id}/availability")
def get_availability(show_id):
    return conditional_answer(services.availability(validation.show_id(show_id)), AVAILABILITY_CACHE)


@api_route("/shows/{show_id}/layout")
def get_layout(show_id):
    return conditional_answer(services.room(validation.show_id(show_id)), LAYOUT_CACHE)


@api_route("/shows/{show_id}/bookings", methods=["POST"])
def book_seats(show_id):
    request = app.current_request
    show = validation.show_id(show_id)
    booking = validation.booking_request(request.raw_body)
    key = validation.idempotency_key(request.headers.get("idempotency-key"))
    return Response(body=services.book_seats(show, booking, key).to_json(), status_code=CREATED)


@api_route("/bookings/{booking_id}")
def get_booking(booking_id):
    token = validation.bearer_token(app.current_request.headers.get("authorization"))
    return services.get_booking(validation.booking_id(booking_id), token).to_json()


@api_route("/bookings/{booking_id}", methods=["DELETE"])
def cancel_booking(booking_id):
    token = validation.bearer_token(app.current_request.headers.get("authorization"))
    return services.cancel_booking(validation.booking_id(booking_id), token).to_json()


@api_route("/shows/{show_id}/holds", methods=["POST"])
def hold_seats(show_id):
    request = app.current_request
    show = validation.show_id(show_id)
    hold = validation.hold_request(request.raw_body)
    key = validation.idempotency_key(request.headers.get("idempotency-key"))
    return Response(body=holds.hold_seats(show, hold, key).to_json(), status_code=CREATED)


def hold_token():
    return validation.bearer_token(app.current_request.headers.get("authorization"), opens="hold")


@api_route("/holds/{hold_id}")
def get_hold(hold_id):
    return holds.get_hold(validation.hold_id(hold_id), hold_token()).to_json()


@api_route("/holds/{hold_id}/confirm", methods=["POST"])
def confirm_hold(hold_id):
    request = app.current_request
    validation.confirmation(request.raw_body)
    validation.idempotency_key(request.headers.get("idempotency-key"))  # confirming is idempotent by itself
    booking = holds.confirm_hold(validation.hold_id(hold_id), hold_token())
    return Response(body=booking.to_json(), status_code=CREATED)


@api_route("/holds/{hold_id}", methods=["DELETE"])
def release_hold(hold_id):
    return holds.release_hold(validation.hold_id(hold_id), hold_token()).to_json()


# path -> the methods its views serve, as an Allow header (the local server reads it too, for
# the methods Chalice cannot route: TRACE, CONNECT, …).
SERVED_METHODS = {}


def refuse_method(allowed: str):
    """The view of a method a path does not serve: 405, naming the methods it does."""

    def method_not_allowed(**params):
        response = error_response(MethodNotAllowed())
        response.headers["Allow"] = allowed
        return response

    return method_not_allowed


def answer_405_for_undeclared_methods():
    """API Gateway answers a method that no route declares as if the path did not exist (403
    "Missing Authentication Token"), and a local OPTIONS as a CORS preflight (200); declaring the
    other methods lets the app answer 405. HEAD is GET without the body, wherever GET is served."""
    for path, routes in list(app.routes.items()):
        if "GET" in routes:
            app.route(path, methods=["HEAD"])(routes["GET"].view_function)
        served = [method for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE") if method in routes]
        SERVED_METHODS[path] = ", ".join(served)
        others = [method for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
                  if method not in routes]
        api_route(path, methods=others)(refuse_method(SERVED_METHODS[path]))


answer_405_for_undeclared_methods()


@app.lambda_function(name="create_show")
def create_show(event, context):
    """Admin only (IAM): {"name", "startTime", "layout" | "rows" + "seatsPerRow", "holdMinutes"?,
    "maxSeatsPerUser"?} -> Show."""
    try:
        return services.create_show(validation.show_request(event)).to_json()
    except ModexError as error:
        raise as_lambda_error(error) from None


@app.schedule(Rate(5, unit=Rate.MINUTES), name="clean_up")
def clean_up(event):
    """Housekeeping only (correctness never waits for it): deletes lapsed claims, expired
    idempotency records, long-lapsed holds and old FAILED bookings, in small batches, within
    the invocation's time (chalicelib/cleanup.py, docs/operations.md)."""
    with budget.invocation(event.context):
        report = cleanup.clean_up().to_json()
    observability.write({"level": "INFO", "function": "clean_up", "deleted": report})
    return report


@app.lambda_function(name="migrate")
def migrate(event, context):
    """Deploy step: applies pending migrations."""
    return {"applied": schema.migrate()}
