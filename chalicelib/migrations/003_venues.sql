-- Venues: sections, categories with prices, accessible places and show settings. Shows made
-- before this keep working as one-section venues ("Main") with one STANDARD category at 0.
ALTER TABLE shows
    ADD COLUMN currency text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    ADD COLUMN hold_minutes integer NOT NULL DEFAULT 10 CHECK (hold_minutes BETWEEN 1 AND 60),
    ADD COLUMN max_seats_per_user integer NOT NULL DEFAULT 10 CHECK (max_seats_per_user BETWEEN 1 AND 100);
ALTER TABLE shows
    ALTER COLUMN currency DROP DEFAULT,
    ALTER COLUMN hold_minutes DROP DEFAULT,
    ALTER COLUMN max_seats_per_user DROP DEFAULT;

CREATE TABLE categories (
    show_id  uuid NOT NULL REFERENCES shows (id),
    id       text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,32}$'),
    name     text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    price    integer NOT NULL CHECK (price >= 0),
    position integer NOT NULL,
    PRIMARY KEY (show_id, id),
    UNIQUE (show_id, position)
);

-- Sections nearest the stage first; total_seats is fixed at creation (seats never change),
-- so a section's availability needs only its claims, never a count of its seats.
CREATE TABLE sections (
    show_id     uuid NOT NULL REFERENCES shows (id),
    position    integer NOT NULL CHECK (position >= 0),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    hints       jsonb NOT NULL DEFAULT '{}',
    total_seats integer NOT NULL CHECK (total_seats > 0),
    PRIMARY KEY (show_id, position),
    UNIQUE (show_id, name)
);

INSERT INTO categories (show_id, id, name, price, position)
SELECT id, 'STANDARD', 'Standard', 0, 0 FROM shows;
INSERT INTO sections (show_id, position, name, total_seats)
SELECT id, 0, 'Main', total_seats FROM shows;

-- ordinal: the seat's place in layout order (section, row, number), 0-based, which is the
-- order of the seat list and of the availability string.
ALTER TABLE seats
    ADD COLUMN section_position integer,
    ADD COLUMN category_id text,
    ADD COLUMN accessible boolean NOT NULL DEFAULT false,
    ADD COLUMN ordinal integer;
ALTER TABLE seats DISABLE TRIGGER seats_immutable;
UPDATE seats
SET section_position = 0, category_id = 'STANDARD', ordinal = numbered.ordinal
FROM (SELECT id, row_number() OVER (PARTITION BY show_id ORDER BY row_label, number) - 1 AS ordinal
      FROM seats) AS numbered
WHERE seats.id = numbered.id;
ALTER TABLE seats ENABLE TRIGGER seats_immutable;
ALTER TABLE seats
    ALTER COLUMN section_position SET NOT NULL,
    ALTER COLUMN category_id SET NOT NULL,
    ALTER COLUMN ordinal SET NOT NULL,
    DROP CONSTRAINT seats_row_label_check,
    ADD CONSTRAINT seats_row_label_check CHECK (row_label ~ '^[A-Za-z0-9]{1,8}$'),
    DROP CONSTRAINT seats_show_id_row_label_number_key,
    ADD CONSTRAINT seats_show_section_row_number_key UNIQUE (show_id, section_position, row_label, number),
    ADD CONSTRAINT seats_show_ordinal_key UNIQUE (show_id, ordinal),
    ADD FOREIGN KEY (show_id, section_position) REFERENCES sections (show_id, position),
    ADD FOREIGN KEY (show_id, category_id) REFERENCES categories (show_id, id),
    -- The section's key already names the show (sections reference shows), and every foreign
    -- key is a check per inserted seat: an 80,000-seat room spent 0.5 s on this one alone.
    DROP CONSTRAINT seats_show_id_fkey;
