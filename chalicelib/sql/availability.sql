-- One character per seat in layout order: B booked, H held (a live hold), else A. A plain
-- read (no FOR UPDATE/SHARE): it takes no lock that a booking waits for. A hold lapsing
-- changes no row but changes this string, and so the ETag made from it.
SELECT string_agg(CASE WHEN seat_bookings.seat_id IS NULL OR seat_bookings.expires_at < now() THEN 'A'
                       WHEN seat_bookings.hold_id IS NOT NULL THEN 'H'
                       ELSE 'B' END, '' ORDER BY seats.ordinal)
FROM seats
LEFT JOIN seat_bookings ON seat_bookings.show_id = seats.show_id AND seat_bookings.seat_id = seats.id
WHERE seats.show_id = :show_id
