-- Sections with their availability: claims counted per section, seats never counted (each
-- section's total is stored). A plain read: it locks nothing that bookings write.
SELECT sections.show_id, sections.name, sections.hints, sections.total_seats,
       sections.total_seats - coalesce(claimed.seats, 0)
FROM sections
LEFT JOIN (
    SELECT seats.show_id, seats.section_position, count(*) AS seats
    FROM seat_bookings
    JOIN seats ON seats.show_id = seat_bookings.show_id AND seats.id = seat_bookings.seat_id
    WHERE seat_bookings.show_id = ANY(CAST(:show_ids AS uuid[]))
      AND (seat_bookings.expires_at IS NULL OR seat_bookings.expires_at >= now())  -- live claims only
    GROUP BY seats.show_id, seats.section_position
) AS claimed ON claimed.show_id = sections.show_id AND claimed.section_position = sections.position
WHERE sections.show_id = ANY(CAST(:show_ids AS uuid[]))
ORDER BY sections.show_id, sections.position
