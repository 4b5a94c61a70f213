SELECT bookings.id, bookings.user_id, bookings.show_id, bookings.status, bookings.created_at, shows.currency
FROM bookings
JOIN shows ON shows.id = bookings.show_id
WHERE bookings.id = :booking_id
