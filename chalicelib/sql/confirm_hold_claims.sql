-- The hold's claims become the booking's, only those still this hold's and unexpired. The
-- caller compares the count with the hold's seats and rolls back when any is missing. A
-- takeover racing this waits on the same row locks: exactly one of the two wins each seat.
UPDATE seat_bookings
SET booking_id = :booking_id, hold_id = NULL, expires_at = NULL
WHERE hold_id = :hold_id AND expires_at >= now()
RETURNING seat_id
