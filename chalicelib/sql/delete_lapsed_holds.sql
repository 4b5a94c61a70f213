-- delete_lapsed_holds
-- Clean-up: a batch of holds that were never confirmed (lapsed or released) and whose expiry
-- passed :kept_hours ago, with the seats they asked for and their token hashes. Confirmed holds
-- stay: their booking is kept, and the hold is how its buyer found it. A hold something still
-- points at is left alone: a claim (tidy_expired_claims.sql removes lapsed claims first) or a
-- live Idempotency-Key record (which replays the hold for 24 hours). SKIP LOCKED: a hold a
-- request has locked (a late confirm or release) is left for the next run.
-- The children go in the same statement: a foreign key is checked at the end of it.
WITH lapsed AS (
    SELECT id FROM holds
    WHERE status <> 'CONFIRMED'
      AND expires_at < now() - CAST(:kept_hours AS integer) * interval '1 hour'
      AND NOT EXISTS (SELECT 1 FROM seat_bookings WHERE seat_bookings.hold_id = holds.id)
      AND NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE idempotency_keys.hold_id = holds.id)
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), seats AS (
    DELETE FROM hold_seats WHERE hold_id IN (SELECT id FROM lapsed)
), tokens AS (
    DELETE FROM hold_tokens WHERE hold_id IN (SELECT id FROM lapsed)
)
DELETE FROM holds WHERE id IN (SELECT id FROM lapsed)
