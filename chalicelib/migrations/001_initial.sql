-- Modex schema. Seats are immutable once created; seat_bookings holds only live claims
-- and its UNIQUE (show_id, seat_id) is what decides who gets a seat.

CREATE TABLE shows (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    start_time  timestamptz NOT NULL,
    total_seats integer NOT NULL CHECK (total_seats > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shows_start_time_idx ON shows (start_time);

CREATE TABLE seats (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    show_id   uuid NOT NULL REFERENCES shows (id),
    row_label text NOT NULL CHECK (row_label ~ '^[A-Z]$'),
    number    integer NOT NULL CHECK (number > 0),
    UNIQUE (show_id, row_label, number),
    -- target of the composite foreign keys below: a seat can only be claimed for its own show
    UNIQUE (show_id, id)
);

-- A show's layout never changes after creation: bookings and their history point at it.
CREATE FUNCTION seats_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'seats are immutable once created' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER seats_immutable BEFORE UPDATE OR DELETE ON seats
    FOR EACH ROW EXECUTE FUNCTION seats_are_immutable();

CREATE TABLE bookings (
    id           uuid PRIMARY KEY,
    show_id      uuid NOT NULL REFERENCES shows (id),
    user_id      text NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 64),
    status       text NOT NULL CHECK (status IN ('CONFIRMED', 'FAILED', 'CANCELLED')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    UNIQUE (show_id, id)
);

-- The seats a booking asked for; kept whatever happens to the booking (history, receipts).
CREATE TABLE booking_seats (
    booking_id uuid NOT NULL,
    show_id    uuid NOT NULL,
    seat_id    bigint NOT NULL,
    PRIMARY KEY (booking_id, seat_id),
    FOREIGN KEY (show_id, booking_id) REFERENCES bookings (show_id, id),
    FOREIGN KEY (show_id, seat_id) REFERENCES seats (show_id, id)
);

-- Live claims only. Cancelling deletes a booking's rows here, freeing its seats at once.
CREATE TABLE seat_bookings (
    show_id    uuid NOT NULL,
    seat_id    bigint NOT NULL,
    booking_id uuid NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT seat_bookings_show_seat_key UNIQUE (show_id, seat_id),
    FOREIGN KEY (show_id, seat_id) REFERENCES seats (show_id, id),
    FOREIGN KEY (show_id, booking_id) REFERENCES bookings (show_id, id)
);
CREATE INDEX seat_bookings_booking_idx ON seat_bookings (booking_id);

-- Only SHA-256 hashes of booking tokens are stored; an idempotent replay adds another.
CREATE TABLE booking_tokens (
    token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    booking_id uuid NOT NULL REFERENCES bookings (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX booking_tokens_booking_idx ON booking_tokens (booking_id);

-- Idempotency-Key records, scoped to a show and honoured for 24 hours. The response is
-- stored without any token; a replayed 201 mints a fresh one.
CREATE TABLE idempotency_keys (
    show_id         uuid NOT NULL REFERENCES shows (id),
    key             text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    fingerprint     bytea NOT NULL,
    response_status integer NOT NULL,
    response_body   jsonb NOT NULL,
    booking_id      uuid REFERENCES bookings (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (show_id, key)
);
