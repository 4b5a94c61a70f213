-- The whole room in one statement, from parallel arrays in layout order (80,000 seats are a
-- few MB of parameters, not 80,000 round trips); ordinal is the seat's place in that order,
-- row_end whether it is its row's first or last (best available's row middle).
INSERT INTO seats (show_id, section_position, row_label, number, category_id, accessible, ordinal, row_end)
SELECT :show_id, seat.section_position, seat.row_label, seat.number, seat.category_id, seat.accessible,
       seat.ordinal - 1,
       seat.number IN (min(seat.number) OVER row_seats, max(seat.number) OVER row_seats)
FROM unnest(CAST(:sections AS integer[]), CAST(:rows AS text[]), CAST(:numbers AS integer[]),
            CAST(:categories AS text[]), CAST(:accessible AS boolean[]))
     WITH ORDINALITY AS seat (section_position, row_label, number, category_id, accessible, ordinal)
WINDOW row_seats AS (PARTITION BY seat.section_position, seat.row_label)
ORDER BY seat.ordinal
