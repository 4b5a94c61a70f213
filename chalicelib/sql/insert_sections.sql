-- A show's sections in layout order, from parallel arrays.
INSERT INTO sections (show_id, position, name, hints, total_seats)
SELECT :show_id, section.position - 1, section.name, CAST(section.hints AS jsonb), section.total_seats
FROM unnest(CAST(:names AS text[]), CAST(:hints AS text[]), CAST(:totals AS integer[]))
     WITH ORDINALITY AS section (name, hints, total_seats, position)
