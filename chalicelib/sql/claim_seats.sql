-- The decision: UNIQUE (show_id, seat_id) lets one claim per seat in. A claim is a booking's
-- (:expires_at NULL) or a hold's (until :expires_at). A seat whose claim is a hold past its
-- expiry is taken over in the same statement; a second taker waits on the first one's row
-- lock, then sees a live claim and gets no row. Rows go in sorted seat order so overlapping
-- claims wait on each other in one order and never deadlock. A taken seat comes back
-- missing, and the caller rolls everything back.
INSERT INTO seat_bookings (show_id, seat_id, booking_id, hold_id, expires_at)
SELECT :show_id, seat_id, :booking_id, :hold_id, CAST(:expires_at AS timestamptz)
FROM unnest(CAST(:seat_ids AS bigint[])) AS seat_id
ORDER BY seat_id
ON CONFLICT ON CONSTRAINT seat_bookings_show_seat_key DO UPDATE
    SET booking_id = EXCLUDED.booking_id, hold_id = EXCLUDED.hold_id, expires_at = EXCLUDED.expires_at,
        claimed_at = now()
    WHERE seat_bookings.expires_at < now()
RETURNING seat_id
