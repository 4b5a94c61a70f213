-- A booking or a hold, all of it in one call (migrations/006_claim_functions.sql says what
-- modex_claim decides and answers). Sent in one round trip with its values inlined.
SELECT outcome, created_at, expires_at, currency, seat_limit, taken_seat_ids, seats
FROM modex_claim(CAST(:show_id AS uuid), :user_id, CAST(:seat_ids AS bigint[]), CAST(:owner_id AS uuid), :hold,
                 CAST(:token_hash AS bytea), :key, CAST(:fingerprint AS bytea), :record_failure)
