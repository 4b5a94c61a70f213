-- A show's sections in layout order, from parallel arrays; each section's category ids come
-- comma-separated (ids are letters, digits, - and _).
INSERT INTO sections (show_id, position, name, hints, total_seats, category_ids)
SELECT :show_id, section.position - 1, section.name, CAST(section.hints AS jsonb), section.total_seats,
       string_to_array(section.category_ids, ',')
FROM unnest(CAST(:names AS text[]), CAST(:hints AS text[]), CAST(:totals AS integer[]),
            CAST(:category_ids AS text[]))
     WITH ORDINALITY AS section (name, hints, total_seats, category_ids, position)
