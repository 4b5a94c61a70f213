-- Creates a booking for a show that exists and has not started; no row back means neither.
INSERT INTO bookings (id, show_id, user_id, status)
SELECT :booking_id, shows.id, :user_id, :status
FROM shows
WHERE shows.id = :show_id AND shows.start_time > now()
RETURNING id, created_at
