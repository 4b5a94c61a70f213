-- Locks the hold (not its show): a confirm, a release and a second confirm see one outcome.
SELECT holds.id, holds.show_id, holds.user_id,
       CASE WHEN holds.status = 'ACTIVE' AND holds.expires_at < now() THEN 'EXPIRED' ELSE holds.status END,
       holds.expires_at, holds.created_at, holds.booking_id, shows.currency
FROM holds
JOIN shows ON shows.id = holds.show_id
WHERE holds.id = :hold_id
FOR UPDATE OF holds
