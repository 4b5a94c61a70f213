"""Domain errors. Each carries the contract's error code and a message; `app.py` maps codes to
HTTP statuses in one table, and nothing here or below knows about HTTP."""


class ModexError(Exception):
    code = "ERROR"
    default_message = "The request could not be handled."

    def __init__(self, message=None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message

    def body(self) -> dict:
        return {"error": self.code, "message": self.message}


class ValidationError(ModexError):
    code = "VALIDATION_ERROR"


class NotFound(ModexError):
    code = "NOT_FOUND"
    default_message = "Not found."


class Unauthorized(ModexError):
    code = "UNAUTHORIZED"
    default_message = "A token is required: send Authorization: Bearer <token>."


class Forbidden(ModexError):
    code = "FORBIDDEN"
    default_message = "That booking token does not open this booking."


class SeatUnavailable(ModexError):
    code = "SEAT_UNAVAILABLE"
    default_message = "Seat unavailable"

    def __init__(self, seat_ids):
        super().__init__()
        self.seat_ids = list(seat_ids)

    def body(self) -> dict:
        return {**super().body(), "seatIds": self.seat_ids}


class HoldExpired(ModexError):
    code = "HOLD_EXPIRED"
    default_message = "This hold has expired or was released; its seats are no longer held for you."


class NotEnoughSeats(ModexError):
    code = "NOT_ENOUGH_SEATS"
    default_message = "No group of that many adjacent seats is available for what you asked."


class LimitReached(ModexError):
    code = "LIMIT_REACHED"

    def __init__(self, limit: int):
        super().__init__(f"A buyer may hold or book at most {limit} seats of this show.")


class ShowStarted(ModexError):
    code = "SHOW_STARTED"
    default_message = "This show has already started; it can no longer be booked."


class IdempotencyKeyReused(ModexError):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was already used with a different request."


class Unavailable(ModexError):
    code = "UNAVAILABLE"
    default_message = "The booking database cannot be reached right now; please try again."


class MethodNotAllowed(ModexError):
    code = "METHOD_NOT_ALLOWED"
    default_message = "This method is not allowed here."


class PayloadTooLarge(ModexError):
    code = "PAYLOAD_TOO_LARGE"
    default_message = "The request body is larger than 64 KiB."


class UnsupportedMediaType(ModexError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Send the body as application/json."


def as_lambda_error(error: ModexError) -> Exception:
    """The error an admin Lambda function raises: Lambda reports the exception's class name
    as `errorType`, so the class is named after the code (e.g. VALIDATION_ERROR)."""
    error_type = type(error.code, (ModexError,), {"code": error.code})
    return error_type(error.message)
