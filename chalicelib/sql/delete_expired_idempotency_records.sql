-- delete_expired_idempotency_records
-- Clean-up: a batch of Idempotency-Key records past their 24 hours (find_idempotency_record.sql
-- counts them as absent already). SKIP LOCKED: a record a request is taking over right now
-- (modex_remember, migrations/006_claim_functions.sql) is left for the next run, and that request never waits.
DELETE FROM idempotency_keys
WHERE ctid IN (SELECT ctid FROM idempotency_keys
               WHERE created_at <= now() - interval '24 hours'
               LIMIT :batch FOR UPDATE SKIP LOCKED)
