-- Idempotency records keep the domain outcome of the first answer, not an HTTP status and body:
-- the attempt's booking (its seats and time are immutable), whether it was CONFIRMED or FAILED,
-- and for a FAILED attempt the seats that were taken. A replay rebuilds the same answer from them.
ALTER TABLE idempotency_keys
    ADD COLUMN outcome text,
    ADD COLUMN taken_seat_ids bigint[];

UPDATE idempotency_keys
SET outcome = CASE response_status WHEN 201 THEN 'CONFIRMED' ELSE 'FAILED' END,
    taken_seat_ids = CASE WHEN response_status = 201 THEN NULL
                          ELSE ARRAY(SELECT CAST(seat AS bigint)
                                     FROM jsonb_array_elements_text(response_body -> 'seatIds') AS seat) END;

ALTER TABLE idempotency_keys
    ALTER COLUMN outcome SET NOT NULL,
    ALTER COLUMN booking_id SET NOT NULL,
    ADD CONSTRAINT idempotency_keys_outcome_check CHECK (
        (outcome = 'CONFIRMED' AND taken_seat_ids IS NULL)
        OR (outcome = 'FAILED' AND cardinality(taken_seat_ids) > 0)),
    DROP COLUMN response_status,
    DROP COLUMN response_body;
