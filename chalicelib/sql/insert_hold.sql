-- Creates a hold for a show that exists and has not started, expiring by the database's
-- clock after the show's holdMinutes; no row back means neither. It answers what the hold
-- needs from its show: the currency and the seat limit.
WITH show AS (
    SELECT shows.id, shows.currency, shows.max_seats_per_user, shows.hold_minutes
    FROM shows WHERE shows.id = :show_id AND shows.start_time > now()
), hold AS (
    INSERT INTO holds (id, show_id, user_id, status, expires_at)
    SELECT :hold_id, show.id, :user_id, 'ACTIVE', now() + make_interval(mins => show.hold_minutes) FROM show
    RETURNING created_at, expires_at
)
SELECT hold.created_at, show.currency, show.max_seats_per_user, hold.expires_at FROM hold, show
