-- The scheduled clean-up (chalicelib/cleanup.py) deletes in small batches. These indexes let
-- each batch read only the rows it deletes, and let deleting a booking or a hold check the
-- foreign keys that point at it (idempotency_keys.booking_id and hold_id, holds.booking_id)
-- without scanning a whole table once per deleted row.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_booking_idx ON idempotency_keys (booking_id) WHERE booking_id IS NOT NULL;
CREATE INDEX idempotency_keys_hold_idx ON idempotency_keys (hold_id) WHERE hold_id IS NOT NULL;
CREATE INDEX holds_unconfirmed_expiry_idx ON holds (expires_at) WHERE status <> 'CONFIRMED';
CREATE INDEX holds_booking_idx ON holds (booking_id) WHERE booking_id IS NOT NULL;
CREATE INDEX bookings_failed_created_idx ON bookings (created_at) WHERE status = 'FAILED';
