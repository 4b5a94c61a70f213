-- The seat list in layout order, optionally one section's (:section NULL means all).
SELECT seat_details.id, seat_details.row_label, seat_details.number, seat_details.section,
       seat_details.category_id, seat_details.accessible, seat_details.price,
       CASE WHEN seat_bookings.seat_id IS NULL OR seat_bookings.expires_at < now() THEN 'A'
            WHEN seat_bookings.hold_id IS NOT NULL THEN 'H'
            ELSE 'B' END AS status
FROM seat_details
LEFT JOIN seat_bookings ON seat_bookings.show_id = seat_details.show_id AND seat_bookings.seat_id = seat_details.id
WHERE seat_details.show_id = :show_id
  AND (CAST(:section AS text) IS NULL OR seat_details.section = CAST(:section AS text))
ORDER BY seat_details.ordinal
