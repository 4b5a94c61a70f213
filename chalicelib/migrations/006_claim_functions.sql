-- A claim (a booking, or a hold) and a hold's confirmation, each as one function call, so that
-- the transaction that decides a seat is three round trips (START TRANSACTION with its SET
-- LOCALs, the call, COMMIT) instead of eight statements of three round trips each, and a
-- refused claim is recorded as FAILED in the same transaction instead of a second one.
-- UNIQUE (show_id, seat_id) still decides: the claim is the same INSERT ... ON CONFLICT as
-- before, only it runs next to the data. Outcomes that change nothing come back as rows;
-- the caller turns them into answers. Explicit transactions stay with the caller.

-- Idempotency-Keys are stored as HMACs under the deployment's secret from now on
-- (chalicelib/tokens.py key_digest); a key stored in plain is a credential at rest, and
-- cannot be re-keyed here without the secret: the records of the last 24 hours are dropped.
-- A client that retries across the upgrade is answered as a new request.
DELETE FROM idempotency_keys;

-- The two helpers below are PL/pgSQL, not SQL functions, for their plans: PL/pgSQL keeps a
-- statement's plan for the session, a SQL function plans its query on every call (0.7 ms a
-- call for the seat list's three-table join, more than any statement of the claim itself).

-- The seats a user has in a show: live holds plus confirmed bookings.
CREATE FUNCTION modex_user_seats(p_show_id uuid, p_user_id text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(*) FROM seat_bookings
            JOIN holds ON holds.id = seat_bookings.hold_id
            WHERE holds.show_id = p_show_id AND holds.user_id = p_user_id AND seat_bookings.expires_at >= now())
         + (SELECT count(*) FROM seat_bookings
            JOIN bookings ON bookings.id = seat_bookings.booking_id
            WHERE bookings.show_id = p_show_id AND bookings.user_id = p_user_id);
END;
$$;

-- The seats as the API describes them, in layout order: [[id, row, number, section, category,
-- accessible, price], ...].
CREATE FUNCTION modex_seat_list(p_show_id uuid, p_seat_ids bigint[]) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Seat by seat through the primary key (LATERAL ... LIMIT 1 keeps the planner from turning
    -- it into a join): `WHERE show_id = $1 AND id = ANY($2)` got a generic plan that reads every
    -- seat of the show (80,000 in a stadium) and filters.
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_array(d.id, d.row_label, d.number, d.section, d.category_id,
                                                        d.accessible, d.price) ORDER BY d.ordinal), '[]')
            FROM unnest(p_seat_ids) AS wanted (id)
            CROSS JOIN LATERAL (SELECT * FROM seat_details WHERE seat_details.id = wanted.id LIMIT 1) AS d
            WHERE d.show_id = p_show_id);
END;
$$;

-- Claims p_seat_ids for a new booking (p_hold = false: CONFIRMED at once) or a new hold (until
-- the show's holdMinutes from now), id p_owner_id, with its first token hash and, when
-- p_key is given, the outcome remembered under it. Outcomes:
--   KNOWN      a live record for p_key exists: the caller replays it (nothing written)
--   NO_SHOW    no such show; STARTED: the show has started; BAD_SEATS: a seat is not the show's
--   LIMIT      the user's seats would pass maxSeatsPerUser (seat_limit says how many)
--   CLAIMED    the booking or hold is made (created_at, expires_at, currency, seats)
--   TAKEN      some seats are others' (taken_seat_ids): nothing of the claim remains, and when
--              p_record_failure the attempt is a FAILED booking (id p_owner_id)
-- Raises SQLSTATE MXKEY when a concurrent request stored p_key first: the caller rolls back
-- and replays that one's answer.
CREATE FUNCTION modex_claim(p_show_id uuid, p_user_id text, p_seat_ids bigint[], p_owner_id uuid, p_hold boolean,
                            p_token_hash bytea, p_key text, p_fingerprint bytea, p_record_failure boolean)
RETURNS TABLE (outcome text, created_at timestamptz, expires_at timestamptz, currency text, seat_limit integer,
               taken_seat_ids bigint[], seats jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_open boolean;
    v_hold_minutes integer;
    v_claimed bigint[];
BEGIN
    -- One user's claims on one show go one at a time (other buyers never wait): the limit
    -- counts what the previous one left, and a twin with the same key finds its answer.
    PERFORM pg_advisory_xact_lock(hashtextextended(p_show_id::text || '/' || p_user_id, 0));
    IF p_key IS NOT NULL AND EXISTS (
            SELECT 1 FROM idempotency_keys k
            WHERE k.show_id = p_show_id AND k.key = p_key AND k.created_at > now() - interval '24 hours') THEN
        outcome := 'KNOWN'; RETURN NEXT; RETURN;
    END IF;
    SELECT s.start_time > now(), s.currency, s.max_seats_per_user, s.hold_minutes
    INTO v_open, currency, seat_limit, v_hold_minutes
    FROM shows s WHERE s.id = p_show_id;
    IF NOT FOUND THEN
        outcome := 'NO_SHOW'; RETURN NEXT; RETURN;
    ELSIF NOT v_open THEN
        outcome := 'STARTED'; RETURN NEXT; RETURN;
    ELSIF (SELECT count(*) FROM unnest(p_seat_ids) AS wanted (id)
           CROSS JOIN LATERAL (SELECT seats.show_id FROM seats WHERE seats.id = wanted.id LIMIT 1) AS seat
           WHERE seat.show_id = p_show_id) <> cardinality(p_seat_ids) THEN  -- by primary key, as below
        outcome := 'BAD_SEATS'; RETURN NEXT; RETURN;
    ELSIF modex_user_seats(p_show_id, p_user_id) + cardinality(p_seat_ids) > seat_limit THEN
        outcome := 'LIMIT'; RETURN NEXT; RETURN;
    END IF;

    -- The claim and what it belongs to, undone together (a subtransaction) when a seat is taken.
    BEGIN
        IF p_hold THEN
            INSERT INTO holds (id, show_id, user_id, status, expires_at)
            VALUES (p_owner_id, p_show_id, p_user_id, 'ACTIVE', now() + make_interval(mins => v_hold_minutes))
            RETURNING holds.created_at, holds.expires_at INTO created_at, expires_at;
            INSERT INTO hold_seats (hold_id, show_id, seat_id)
            SELECT p_owner_id, p_show_id, seat_id FROM unnest(p_seat_ids) AS seat_id;
        ELSE
            INSERT INTO bookings (id, show_id, user_id, status) VALUES (p_owner_id, p_show_id, p_user_id, 'CONFIRMED')
            RETURNING bookings.created_at INTO created_at;
            INSERT INTO booking_seats (booking_id, show_id, seat_id)
            SELECT p_owner_id, p_show_id, seat_id FROM unnest(p_seat_ids) AS seat_id;
        END IF;
        -- The decision: UNIQUE (show_id, seat_id) lets one claim per seat in; a claim of a
        -- hold past its expiry is taken over in the same statement (a second taker waits on
        -- the first one's row lock, then sees a live claim and gets no row). Sorted seat order:
        -- overlapping claims wait on each other in one order and never deadlock.
        WITH claimed AS (
            INSERT INTO seat_bookings (show_id, seat_id, booking_id, hold_id, expires_at)
            SELECT p_show_id, seat_id,
                   CASE WHEN p_hold THEN NULL ELSE p_owner_id END,
                   CASE WHEN p_hold THEN p_owner_id END,
                   expires_at
            FROM unnest(p_seat_ids) AS seat_id
            ORDER BY seat_id
            ON CONFLICT ON CONSTRAINT seat_bookings_show_seat_key DO UPDATE
                SET booking_id = EXCLUDED.booking_id, hold_id = EXCLUDED.hold_id, expires_at = EXCLUDED.expires_at,
                    claimed_at = now()
                WHERE seat_bookings.expires_at < now()
            RETURNING seat_bookings.seat_id
        )
        SELECT array_agg(claimed.seat_id) INTO v_claimed FROM claimed;
        IF coalesce(cardinality(v_claimed), 0) < cardinality(p_seat_ids) THEN
            taken_seat_ids := ARRAY(SELECT unnest(p_seat_ids) EXCEPT SELECT unnest(v_claimed) ORDER BY 1);
            RAISE EXCEPTION 'seats taken' USING ERRCODE = 'MX409';
        END IF;
    EXCEPTION WHEN SQLSTATE 'MX409' THEN
        created_at := NULL; expires_at := NULL;
    END;

    IF taken_seat_ids IS NOT NULL THEN
        outcome := 'TAKEN';
        IF p_record_failure THEN
            INSERT INTO bookings (id, show_id, user_id, status) VALUES (p_owner_id, p_show_id, p_user_id, 'FAILED');
            INSERT INTO booking_seats (booking_id, show_id, seat_id)
            SELECT p_owner_id, p_show_id, seat_id FROM unnest(p_seat_ids) AS seat_id;
            PERFORM modex_remember(p_show_id, p_key, p_fingerprint, 'FAILED', taken_seat_ids, p_owner_id, NULL);
        END IF;
        RETURN NEXT; RETURN;
    END IF;

    IF p_hold THEN
        INSERT INTO hold_tokens (token_hash, hold_id) VALUES (p_token_hash, p_owner_id);
        PERFORM modex_remember(p_show_id, p_key, p_fingerprint, 'HELD', NULL, NULL, p_owner_id);
    ELSE
        INSERT INTO booking_tokens (token_hash, booking_id) VALUES (p_token_hash, p_owner_id);
        PERFORM modex_remember(p_show_id, p_key, p_fingerprint, 'CONFIRMED', NULL, p_owner_id, NULL);
    END IF;
    outcome := 'CLAIMED';
    seats := modex_seat_list(p_show_id, p_seat_ids);
    RETURN NEXT;
END;
$$;

-- Stores a claim's outcome under its Idempotency-Key (nothing without a key). An expired record
-- is replaced; a live one means a concurrent twin answered first: MXKEY, the caller rolls back.
CREATE FUNCTION modex_remember(p_show_id uuid, p_key text, p_fingerprint bytea, p_outcome text,
                               p_taken_seat_ids bigint[], p_booking_id uuid, p_hold_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_key IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO idempotency_keys (show_id, key, fingerprint, outcome, taken_seat_ids, booking_id, hold_id)
    VALUES (p_show_id, p_key, p_fingerprint, p_outcome, p_taken_seat_ids, p_booking_id, p_hold_id)
    ON CONFLICT (show_id, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, outcome = EXCLUDED.outcome, taken_seat_ids = EXCLUDED.taken_seat_ids,
            booking_id = EXCLUDED.booking_id, hold_id = EXCLUDED.hold_id, created_at = now()
        WHERE idempotency_keys.created_at <= now() - interval '24 hours';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'idempotency key answered by a concurrent request' USING ERRCODE = 'MXKEY';
    END IF;
END;
$$;

-- Confirms hold p_hold_id for the holder of p_token_hash as booking p_booking_id (first token
-- p_new_token_hash): every seat must still be this hold's and unexpired. Outcomes:
--   NOT_FOUND, FORBIDDEN (the token does not open the hold)
--   ALREADY    confirmed before: booking_id is that booking (the caller answers it again)
--   EXPIRED    the hold lapsed, was released, a claim went to someone else, or confirming would
--              pass the user's limit: nothing is booked
--   STARTED    the show has started
--   CONFIRMED  the booking (booking_id, user_id, show_id, created_at, currency, seats)
CREATE FUNCTION modex_confirm(p_hold_id uuid, p_token_hash bytea, p_booking_id uuid, p_new_token_hash bytea)
RETURNS TABLE (outcome text, booking_id uuid, user_id text, show_id uuid, created_at timestamptz, currency text,
               seats jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
    v_expires_at timestamptz;
    v_open boolean;
    v_limit integer;
    v_seat_ids bigint[];
    v_confirmed integer;
BEGIN
    -- Locks the hold (not its show): a confirm, a release and a second confirm see one outcome.
    SELECT h.show_id, h.user_id, h.status, h.expires_at, h.booking_id
    INTO show_id, user_id, v_status, v_expires_at, booking_id
    FROM holds h WHERE h.id = p_hold_id FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'NOT_FOUND'; RETURN NEXT; RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM hold_tokens t WHERE t.hold_id = p_hold_id AND t.token_hash = p_token_hash) THEN
        outcome := 'FORBIDDEN'; RETURN NEXT; RETURN;
    END IF;
    IF v_status = 'CONFIRMED' THEN
        outcome := 'ALREADY'; RETURN NEXT; RETURN;
    END IF;
    booking_id := NULL;
    IF v_status <> 'ACTIVE' OR v_expires_at < now() THEN
        outcome := 'EXPIRED'; RETURN NEXT; RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(show_id::text || '/' || user_id, 0));
    SELECT s.start_time > now(), s.max_seats_per_user, s.currency INTO v_open, v_limit, currency
    FROM shows s WHERE s.id = show_id;
    IF NOT v_open THEN
        outcome := 'STARTED'; RETURN NEXT; RETURN;
    END IF;
    -- The hold's seats count while it is live by this transaction's clock. If the user claimed
    -- more while it looked lapsed to that claim, confirming would pass the limit: the hold
    -- counts as lapsed here too.
    IF modex_user_seats(show_id, user_id) > v_limit THEN
        outcome := 'EXPIRED'; RETURN NEXT; RETURN;
    END IF;
    SELECT array_agg(hs.seat_id ORDER BY hs.seat_id) INTO v_seat_ids FROM hold_seats hs WHERE hs.hold_id = p_hold_id;
    BEGIN
        INSERT INTO bookings (id, show_id, user_id, status) VALUES (p_booking_id, show_id, user_id, 'CONFIRMED')
        RETURNING bookings.created_at INTO created_at;
        INSERT INTO booking_seats (booking_id, show_id, seat_id)
        SELECT p_booking_id, show_id, seat_id FROM unnest(v_seat_ids) AS seat_id;
        -- Each claim is this hold's and unexpired, or it went to someone else: all or nothing.
        -- A takeover racing this waits on the same row locks: one of the two wins each seat.
        UPDATE seat_bookings SET booking_id = p_booking_id, hold_id = NULL, expires_at = NULL
        WHERE seat_bookings.hold_id = p_hold_id AND seat_bookings.expires_at >= now();
        GET DIAGNOSTICS v_confirmed = ROW_COUNT;
        IF v_confirmed <> cardinality(v_seat_ids) THEN
            RAISE EXCEPTION 'hold lost a seat' USING ERRCODE = 'MX410';
        END IF;
    EXCEPTION WHEN SQLSTATE 'MX410' THEN
        outcome := 'EXPIRED'; created_at := NULL; RETURN NEXT; RETURN;
    END;
    UPDATE holds SET status = 'CONFIRMED', booking_id = p_booking_id WHERE holds.id = p_hold_id;
    INSERT INTO booking_tokens (token_hash, booking_id) VALUES (p_new_token_hash, p_booking_id);
    outcome := 'CONFIRMED';
    booking_id := p_booking_id;
    seats := modex_seat_list(show_id, v_seat_ids);
    RETURN NEXT;
END;
$$;
