-- The seats a user has in a show: live holds plus confirmed bookings.
SELECT (SELECT count(*) FROM seat_bookings
        JOIN holds ON holds.id = seat_bookings.hold_id
        WHERE holds.show_id = :show_id AND holds.user_id = :user_id AND seat_bookings.expires_at >= now())
     + (SELECT count(*) FROM seat_bookings
        JOIN bookings ON bookings.id = seat_bookings.booking_id
        WHERE bookings.show_id = :show_id AND bookings.user_id = :user_id)
