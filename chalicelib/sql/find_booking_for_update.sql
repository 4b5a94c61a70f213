-- Locks the booking so a cancel and a concurrent cancel or read see one outcome.
SELECT bookings.id, bookings.user_id, bookings.show_id, bookings.status, bookings.created_at
FROM bookings
WHERE bookings.id = :booking_id
FOR UPDATE
