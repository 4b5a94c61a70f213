SELECT shows.id, shows.name, shows.start_time, shows.total_seats,
       shows.total_seats - (SELECT count(*) FROM seat_bookings WHERE seat_bookings.show_id = shows.id
                            AND (seat_bookings.expires_at IS NULL OR seat_bookings.expires_at >= now())),
       shows.currency, shows.hold_minutes, shows.max_seats_per_user
FROM shows
ORDER BY shows.start_time, shows.id
