-- A section's free seats in layout order after a given ordinal (at most so many of them; NULL:
-- all), with each row's first and last seat whatever their state (the row's middle is theirs),
-- for best available: taken seats in between add nothing that numbers do not say (adjacent
-- means consecutive numbers, both free). Sent with its values inlined (one round trip). A plain read: it
-- locks nothing; the claim that follows decides. Each seat's claim is probed through the
-- unique index (LATERAL ... LIMIT 1): a join, or a NOT EXISTS the planner hashes, reads every
-- claim of the show instead (a stadium sold to three quarters: 10-25 ms against about 2 ms).
WITH section AS (
    SELECT seats.id, seats.row_label, seats.number, seats.category_id, seats.accessible, seats.ordinal,
           claim.claimed IS NULL OR claim.expires_at < now() AS free,
           seats.number IN (min(seats.number) OVER row_seats, max(seats.number) OVER row_seats) AS row_end
    FROM seats
    LEFT JOIN LATERAL (
        SELECT true AS claimed, seat_bookings.expires_at FROM seat_bookings
        WHERE seat_bookings.show_id = seats.show_id AND seat_bookings.seat_id = seats.id
        LIMIT 1
    ) AS claim ON true
    -- the ordinal given ends a row (the caller reads whole rows), so the rows after it are whole
    WHERE seats.show_id = CAST(:show_id AS uuid) AND seats.section_position = :section AND seats.ordinal > :after
    WINDOW row_seats AS (PARTITION BY seats.row_label)
)
SELECT id, row_label, number, category_id, accessible, free, ordinal
FROM section
WHERE free OR row_end
ORDER BY ordinal
LIMIT :limit
