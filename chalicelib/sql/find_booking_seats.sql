SELECT seat_details.id, seat_details.row_label, seat_details.number, seat_details.section, seat_details.category_id,
       seat_details.accessible, seat_details.price
FROM booking_seats
JOIN seat_details ON seat_details.id = booking_seats.seat_id
WHERE booking_seats.booking_id = :booking_id
ORDER BY seat_details.ordinal
