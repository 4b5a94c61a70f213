-- Housekeeping only (correctness never needs it): drops a batch of claims of holds that
-- expired a while ago. SKIP LOCKED: never waits on, or blocks, a booking taking one over.
DELETE FROM seat_bookings
WHERE ctid IN (SELECT ctid FROM seat_bookings
               WHERE expires_at < now() - interval '1 minute'
               LIMIT :batch FOR UPDATE SKIP LOCKED)
