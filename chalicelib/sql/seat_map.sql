SELECT seats.id, seats.row_label, seats.number, seat_bookings.seat_id IS NOT NULL AS booked
FROM seats
LEFT JOIN seat_bookings ON seat_bookings.show_id = seats.show_id AND seat_bookings.seat_id = seats.id
WHERE seats.show_id = :show_id
ORDER BY seats.row_label, seats.number
