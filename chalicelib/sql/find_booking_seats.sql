SELECT seats.id, seats.row_label, seats.number, sections.name, seats.category_id, seats.accessible, categories.price
FROM booking_seats
JOIN seats ON seats.id = booking_seats.seat_id
JOIN sections ON sections.show_id = seats.show_id AND sections.position = seats.section_position
JOIN categories ON categories.show_id = seats.show_id AND categories.id = seats.category_id
WHERE booking_seats.booking_id = :booking_id
ORDER BY seats.ordinal
