-- One section's seats in layout order with whether each is free now (no live claim), for
-- best available. A plain read: it locks nothing; the claim that follows decides.
SELECT seats.id, seats.row_label, seats.number, seats.category_id, seats.accessible,
       seat_bookings.seat_id IS NULL OR seat_bookings.expires_at < now() AS free
FROM seats
LEFT JOIN seat_bookings ON seat_bookings.show_id = seats.show_id AND seat_bookings.seat_id = seats.id
WHERE seats.show_id = :show_id AND seats.section_position = :section
ORDER BY seats.ordinal
