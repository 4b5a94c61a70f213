-- No row back means a live record for this key exists (committed by a concurrent request,
-- which this statement waited for); an expired one is replaced.
INSERT INTO idempotency_keys (show_id, key, fingerprint, outcome, taken_seat_ids, booking_id, hold_id)
VALUES (:show_id, :key, :fingerprint, :outcome, CAST(:taken_seat_ids AS bigint[]), :booking_id, :hold_id)
ON CONFLICT (show_id, key) DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint,
        outcome = EXCLUDED.outcome,
        taken_seat_ids = EXCLUDED.taken_seat_ids,
        booking_id = EXCLUDED.booking_id,
        hold_id = EXCLUDED.hold_id,
        created_at = now()
    WHERE idempotency_keys.created_at <= now() - interval '24 hours'
RETURNING show_id
