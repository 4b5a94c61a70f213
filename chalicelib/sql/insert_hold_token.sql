-- insert_hold_token
-- Stores a new token's hash and keeps the newest 20 per hold (the token cap), for the same
-- reason and in the same way as insert_booking_token.sql: every idempotent replay of a hold
-- mints a token; the DELETE does not see this INSERT, so it keeps the newest 19 earlier ones.
WITH inserted AS (
    INSERT INTO hold_tokens (token_hash, hold_id) VALUES (:token_hash, :hold_id)
)
DELETE FROM hold_tokens
WHERE token_hash IN (SELECT token_hash FROM hold_tokens
                     WHERE hold_id = :hold_id
                     ORDER BY created_at DESC, token_hash
                     OFFSET 19)
