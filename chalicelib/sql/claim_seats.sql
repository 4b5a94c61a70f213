-- The decision: UNIQUE (show_id, seat_id) lets one claim per seat in. Rows go in sorted
-- seat order so two overlapping bookings wait on each other in the same order and can
-- never deadlock. A taken seat comes back missing, and the caller rolls the booking back.
INSERT INTO seat_bookings (show_id, seat_id, booking_id)
SELECT :show_id, seat_id, :booking_id
FROM unnest(CAST(:seat_ids AS bigint[])) AS seat_id
ORDER BY seat_id
ON CONFLICT ON CONSTRAINT seat_bookings_show_seat_key DO NOTHING
RETURNING seat_id
