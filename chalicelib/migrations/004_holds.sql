-- Holds: a claim in seat_bookings with an expiry, so UNIQUE (show_id, seat_id) decides holds
-- exactly as it decides bookings. A claim belongs to a booking (no expiry) or to a hold (until
-- expires_at, by the database's clock); a claim past its expiry is free for the next claimant,
-- who takes it over in the same statement. No sweeper is needed for correctness.
CREATE TABLE holds (
    id         uuid PRIMARY KEY,
    show_id    uuid NOT NULL REFERENCES shows (id),
    user_id    text NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 64),
    -- EXPIRED is not stored: it is an ACTIVE hold whose expires_at has passed.
    status     text NOT NULL CHECK (status IN ('ACTIVE', 'CONFIRMED', 'RELEASED')),
    expires_at timestamptz NOT NULL,
    booking_id uuid REFERENCES bookings (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (show_id, id),
    CHECK ((status = 'CONFIRMED') = (booking_id IS NOT NULL))
);
CREATE INDEX holds_show_user_idx ON holds (show_id, user_id);
CREATE INDEX bookings_show_user_idx ON bookings (show_id, user_id);

-- The seats a hold asked for; kept whatever happens to the hold.
CREATE TABLE hold_seats (
    hold_id uuid NOT NULL,
    show_id uuid NOT NULL,
    seat_id bigint NOT NULL,
    PRIMARY KEY (hold_id, seat_id),
    FOREIGN KEY (show_id, hold_id) REFERENCES holds (show_id, id),
    FOREIGN KEY (show_id, seat_id) REFERENCES seats (show_id, id)
);

-- Only SHA-256 hashes of hold tokens, as for bookings.
CREATE TABLE hold_tokens (
    token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    hold_id    uuid NOT NULL REFERENCES holds (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hold_tokens_hold_idx ON hold_tokens (hold_id);

ALTER TABLE seat_bookings
    ALTER COLUMN booking_id DROP NOT NULL,
    ADD COLUMN hold_id uuid,
    ADD COLUMN expires_at timestamptz,
    ADD FOREIGN KEY (show_id, hold_id) REFERENCES holds (show_id, id),
    ADD CONSTRAINT seat_bookings_one_owner CHECK ((booking_id IS NULL) <> (hold_id IS NULL)),
    ADD CONSTRAINT seat_bookings_holds_expire CHECK ((hold_id IS NULL) = (expires_at IS NULL));
CREATE INDEX seat_bookings_hold_idx ON seat_bookings (hold_id) WHERE hold_id IS NOT NULL;
CREATE INDEX seat_bookings_expiry_idx ON seat_bookings (expires_at) WHERE expires_at IS NOT NULL;

-- An Idempotency-Key on a hold remembers the hold (outcome HELD) as one on a booking
-- remembers the booking.
ALTER TABLE idempotency_keys
    ALTER COLUMN booking_id DROP NOT NULL,
    ADD COLUMN hold_id uuid REFERENCES holds (id),
    DROP CONSTRAINT idempotency_keys_outcome_check,
    ADD CONSTRAINT idempotency_keys_outcome_check CHECK (
        (outcome = 'CONFIRMED' AND taken_seat_ids IS NULL AND booking_id IS NOT NULL)
        OR (outcome = 'HELD' AND taken_seat_ids IS NULL AND hold_id IS NOT NULL)
        OR (outcome = 'FAILED' AND cardinality(taken_seat_ids) > 0 AND booking_id IS NOT NULL));
