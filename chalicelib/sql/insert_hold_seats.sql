-- Records which seats a hold asked for; fewer rows back than asked means a seat is not in the show.
WITH recorded AS (
    INSERT INTO hold_seats (hold_id, show_id, seat_id)
    SELECT :hold_id, seats.show_id, seats.id
    FROM seats
    WHERE seats.show_id = :show_id AND seats.id = ANY(CAST(:seat_ids AS bigint[]))
    RETURNING seat_id
)
SELECT seat_details.id, seat_details.row_label, seat_details.number, seat_details.section, seat_details.category_id,
       seat_details.accessible, seat_details.price
FROM recorded
JOIN seat_details ON seat_details.id = recorded.seat_id
ORDER BY seat_details.ordinal
