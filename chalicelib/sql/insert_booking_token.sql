-- insert_booking_token
-- Stores a new token's hash and keeps the newest 20 per booking (the token cap). Every
-- idempotent replay and every repeated confirm mints a token, so a client retrying in a loop
-- would otherwise grow this table without end; the oldest tokens beyond the cap stop opening
-- the booking. The DELETE sees the table as it was before this statement's INSERT, so it keeps
-- the newest 19 earlier tokens (OFFSET 19) beside the new one.
WITH inserted AS (
    INSERT INTO booking_tokens (token_hash, booking_id) VALUES (:token_hash, :booking_id)
)
DELETE FROM booking_tokens
WHERE token_hash IN (SELECT token_hash FROM booking_tokens
                     WHERE booking_id = :booking_id
                     ORDER BY created_at DESC, token_hash
                     OFFSET 19)
