-- delete_old_failed_bookings
-- Clean-up: a batch of refused attempts (FAILED bookings) older than :kept_days days, with the
-- seats they asked for. A FAILED booking has no claims and no tokens; one that a live
-- Idempotency-Key record still replays is left alone. Confirmed and cancelled bookings are
-- never touched. SKIP LOCKED, so the clean-up never waits for anyone.
WITH old_failed AS (
    SELECT id FROM bookings
    WHERE status = 'FAILED'
      AND created_at < now() - CAST(:kept_days AS integer) * interval '1 day'
      AND NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE idempotency_keys.booking_id = bookings.id)
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), seats AS (
    DELETE FROM booking_seats WHERE booking_id IN (SELECT id FROM old_failed)
)
DELETE FROM bookings WHERE id IN (SELECT id FROM old_failed)
