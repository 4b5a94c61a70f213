-- A hold with its status as of now: an ACTIVE hold past its expiry reads EXPIRED.
SELECT holds.id, holds.show_id, holds.user_id,
       CASE WHEN holds.status = 'ACTIVE' AND holds.expires_at < now() THEN 'EXPIRED' ELSE holds.status END,
       holds.expires_at, holds.created_at, holds.booking_id, shows.currency
FROM holds
JOIN shows ON shows.id = holds.show_id
WHERE holds.id = :hold_id
