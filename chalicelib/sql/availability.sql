-- One character per seat in layout order: B when a claim exists, else A. A plain read (no
-- FOR UPDATE/SHARE): it takes no lock that a booking waits for.
SELECT string_agg(CASE WHEN seat_bookings.seat_id IS NULL THEN 'A' ELSE 'B' END, '' ORDER BY seats.ordinal)
FROM seats
LEFT JOIN seat_bookings ON seat_bookings.show_id = seats.show_id AND seat_bookings.seat_id = seats.id
WHERE seats.show_id = :show_id
