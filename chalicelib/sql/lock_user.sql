-- Serialises one user's claims on one show (not the show's: other buyers never wait), so the
-- seat limit holds under concurrent requests of that user. Transaction-scoped: safe behind a
-- transaction pooler.
SELECT pg_advisory_xact_lock(hashtextextended(CAST(:show_id AS text) || '/' || :user_id, 0))
