-- Locks the booking (not its show) so a cancel and a concurrent cancel or read see one outcome.
SELECT bookings.id, bookings.user_id, bookings.show_id, bookings.status, bookings.created_at, shows.currency
FROM bookings
JOIN shows ON shows.id = bookings.show_id
WHERE bookings.id = :booking_id
FOR UPDATE OF bookings
