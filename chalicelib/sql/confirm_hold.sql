-- A hold's confirmation in one call (migrations/006_claim_functions.sql: modex_confirm). Sent
-- in one round trip with its values inlined.
SELECT outcome, booking_id, user_id, show_id, created_at, currency, seats
FROM modex_confirm(CAST(:hold_id AS uuid), CAST(:token_hash AS bytea), CAST(:booking_id AS uuid),
                   CAST(:new_token_hash AS bytea))
