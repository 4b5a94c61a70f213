-- The whole room in one statement, from parallel arrays in layout order (80,000 seats are a
-- few MB of parameters, not 80,000 round trips); ordinal is the seat's place in that order.
INSERT INTO seats (show_id, section_position, row_label, number, category_id, accessible, ordinal)
SELECT :show_id, seat.section_position, seat.row_label, seat.number, seat.category_id, seat.accessible,
       seat.ordinal - 1
FROM unnest(CAST(:sections AS integer[]), CAST(:rows AS text[]), CAST(:numbers AS integer[]),
            CAST(:categories AS text[]), CAST(:accessible AS boolean[]))
     WITH ORDINALITY AS seat (section_position, row_label, number, category_id, accessible, ordinal)
ORDER BY seat.ordinal
