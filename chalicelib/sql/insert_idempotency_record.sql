-- No row back means a live record for this key exists (committed by a concurrent request,
-- which this statement waited for); an expired one is replaced.
INSERT INTO idempotency_keys (show_id, key, fingerprint, response_status, response_body, booking_id)
VALUES (:show_id, :key, :fingerprint, :response_status, CAST(:response_body AS jsonb), :booking_id)
ON CONFLICT (show_id, key) DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint,
        response_status = EXCLUDED.response_status,
        response_body = EXCLUDED.response_body,
        booking_id = EXCLUDED.booking_id,
        created_at = now()
    WHERE idempotency_keys.created_at <= now() - interval '24 hours'
RETURNING show_id
