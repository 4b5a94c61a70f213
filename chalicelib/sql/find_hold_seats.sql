SELECT seats.id, seats.row_label, seats.number, sections.name, seats.category_id, seats.accessible, categories.price
FROM hold_seats
JOIN seats ON seats.id = hold_seats.seat_id
JOIN sections ON sections.show_id = seats.show_id AND sections.position = seats.section_position
JOIN categories ON categories.show_id = seats.show_id AND categories.id = seats.category_id
WHERE hold_seats.hold_id = :hold_id
ORDER BY seats.ordinal
