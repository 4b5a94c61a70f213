-- Creates a booking for a show that exists and has not started; no row back means neither.
-- It answers what the booking needs from its show: the currency and the seat limit.
WITH show AS (
    SELECT shows.id, shows.currency, shows.max_seats_per_user
    FROM shows WHERE shows.id = :show_id AND shows.start_time > now()
), booking AS (
    INSERT INTO bookings (id, show_id, user_id, status)
    SELECT :booking_id, show.id, :user_id, :status FROM show
    RETURNING created_at
)
SELECT booking.created_at, show.currency, show.max_seats_per_user FROM booking, show
