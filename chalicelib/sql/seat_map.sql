-- The seat list in layout order, optionally one section's (:section NULL means all).
SELECT seats.id, seats.row_label, seats.number, sections.name, seats.category_id, seats.accessible,
       categories.price,
       CASE WHEN seat_bookings.seat_id IS NULL OR seat_bookings.expires_at < now() THEN 'A'
            WHEN seat_bookings.hold_id IS NOT NULL THEN 'H'
            ELSE 'B' END AS status
FROM seats
JOIN sections ON sections.show_id = seats.show_id AND sections.position = seats.section_position
JOIN categories ON categories.show_id = seats.show_id AND categories.id = seats.category_id
LEFT JOIN seat_bookings ON seat_bookings.show_id = seats.show_id AND seat_bookings.seat_id = seats.id
WHERE seats.show_id = :show_id AND (CAST(:section AS text) IS NULL OR sections.name = CAST(:section AS text))
ORDER BY seats.ordinal
