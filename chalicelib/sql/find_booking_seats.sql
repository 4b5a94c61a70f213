SELECT seats.id, seats.row_label, seats.number
FROM booking_seats JOIN seats ON seats.id = booking_seats.seat_id
WHERE booking_seats.booking_id = :booking_id
ORDER BY seats.row_label, seats.number
