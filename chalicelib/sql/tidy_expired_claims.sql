-- Housekeeping only (correctness never needs it): drops a batch of claims of holds that
-- expired a while ago. SKIP LOCKED: it never waits for a claimant taking one over (a
-- claimant reaching a row of this batch waits for this short transaction instead).
DELETE FROM seat_bookings
WHERE ctid IN (SELECT ctid FROM seat_bookings
               WHERE expires_at < now() - interval '1 minute'
               LIMIT :batch FOR UPDATE SKIP LOCKED)
