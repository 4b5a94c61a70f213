SELECT seat_details.id, seat_details.row_label, seat_details.number, seat_details.section, seat_details.category_id,
       seat_details.accessible, seat_details.price
FROM hold_seats
JOIN seat_details ON seat_details.id = hold_seats.seat_id
WHERE hold_seats.hold_id = :hold_id
ORDER BY seat_details.ordinal
