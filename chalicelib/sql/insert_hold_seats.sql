-- Records which seats a hold asked for; fewer rows back than asked means a seat is not in the show.
WITH recorded AS (
    INSERT INTO hold_seats (hold_id, show_id, seat_id)
    SELECT :hold_id, seats.show_id, seats.id
    FROM seats
    WHERE seats.show_id = :show_id AND seats.id = ANY(CAST(:seat_ids AS bigint[]))
    RETURNING seat_id
)
SELECT seats.id, seats.row_label, seats.number, sections.name, seats.category_id, seats.accessible, categories.price
FROM recorded
JOIN seats ON seats.id = recorded.seat_id
JOIN sections ON sections.show_id = seats.show_id AND sections.position = seats.section_position
JOIN categories ON categories.show_id = seats.show_id AND categories.id = seats.category_id
ORDER BY seats.ordinal
