-- What best available needs of its show before it searches, in one round trip (values
-- inlined): whether it has started and, when asked (:with_names; a container keeps them, they
-- never change), its section names in layout order, each section's category ids
-- (comma-separated) and the show's category ids; no row for an unknown show. No availability
-- is counted.
SELECT shows.start_time <= now(),
       CASE WHEN :with_names THEN
           ARRAY(SELECT sections.name FROM sections WHERE sections.show_id = shows.id ORDER BY sections.position)
       END,
       CASE WHEN :with_names THEN
           ARRAY(SELECT array_to_string(sections.category_ids, ',') FROM sections
                 WHERE sections.show_id = shows.id ORDER BY sections.position)
       END,
       CASE WHEN :with_names THEN
           ARRAY(SELECT categories.id FROM categories WHERE categories.show_id = shows.id)
       END
FROM shows
WHERE shows.id = CAST(:show_id AS uuid)
