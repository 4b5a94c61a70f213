-- Keys are honoured for 24 hours; an older record counts as absent.
SELECT fingerprint, outcome, taken_seat_ids, booking_id, hold_id
FROM idempotency_keys
WHERE show_id = :show_id AND key = :key AND created_at > now() - interval '24 hours'
