-- Best available's read of a section, made cheap enough for an on-sale (docs/performance.md,
-- section 10: it was PostgreSQL's largest cost, above the claims themselves).
--
-- Each seat knows whether it ends its row. Best available needs the row's first and last seat
-- whatever their state (the row's middle is theirs); a window over the section made every read
-- scan the whole section (1,000 seats, a probe of each one's claim) even when the first 200
-- free seats were in its first rows. Seats never change, so this is computed once.
ALTER TABLE seats ADD COLUMN row_end boolean NOT NULL DEFAULT false;
ALTER TABLE seats DISABLE TRIGGER seats_immutable;
UPDATE seats SET row_end = true
FROM (SELECT id, number IN (min(number) OVER row_seats, max(number) OVER row_seats) AS row_end
      FROM seats
      WINDOW row_seats AS (PARTITION BY show_id, section_position, row_label)) AS ends
WHERE seats.id = ends.id AND ends.row_end;
ALTER TABLE seats ENABLE TRIGGER seats_immutable;
ALTER TABLE seats ALTER COLUMN row_end DROP DEFAULT;

-- A section's seats in layout order, read from a given ordinal on: the read stops at its limit.
CREATE INDEX seats_section_ordinal_idx ON seats (show_id, section_position, ordinal);

-- The categories a section has seats of: best available within a category searches only those
-- sections (once a category sold out, a search for it read every section of the room).
ALTER TABLE sections ADD COLUMN category_ids text[];
UPDATE sections SET category_ids = ARRAY(SELECT DISTINCT seats.category_id FROM seats
                                         WHERE seats.show_id = sections.show_id
                                           AND seats.section_position = sections.position
                                         ORDER BY seats.category_id);
ALTER TABLE sections ALTER COLUMN category_ids SET NOT NULL;

-- A section's free seats in layout order after p_after (at most p_limit of them; NULL: all),
-- with each row's first and last seat whatever their state, for best available: taken seats in
-- between add nothing that numbers do not say (adjacent means consecutive numbers, both free).
-- A plain read: it locks nothing; the claim that follows decides. PL/pgSQL for its plan, kept
-- for the session (the same query sent as text was planned on every call: 0.7 ms of 3). Each
-- seat's claim is probed through the unique index (LATERAL ... LIMIT 1): a join, or a NOT
-- EXISTS the planner hashes, reads every claim of the show instead.
CREATE FUNCTION modex_section_seats(p_show_id uuid, p_section integer, p_after integer, p_limit integer)
RETURNS TABLE (id bigint, row_label text, number integer, category_id text, accessible boolean, free boolean,
               ordinal integer)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT section.id, section.row_label, section.number, section.category_id, section.accessible, section.free,
           section.ordinal
    FROM (SELECT seats.id, seats.row_label, seats.number, seats.category_id, seats.accessible, seats.ordinal,
                 seats.row_end, claim.claimed IS NULL OR claim.expires_at < now() AS free
          FROM seats
          LEFT JOIN LATERAL (
              SELECT true AS claimed, seat_bookings.expires_at FROM seat_bookings
              WHERE seat_bookings.show_id = seats.show_id AND seat_bookings.seat_id = seats.id
              LIMIT 1
          ) AS claim ON true
          WHERE seats.show_id = p_show_id AND seats.section_position = p_section AND seats.ordinal > p_after
         ) AS section
    WHERE section.free OR section.row_end
    ORDER BY section.ordinal
    LIMIT p_limit;
END;
$$;
