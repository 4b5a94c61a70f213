-- What best available needs of its show before it searches, in one round trip (values
-- inlined): whether it has started, its section names in layout order and its category ids; no
-- row for an unknown show. No availability is counted.
SELECT shows.start_time <= now(),
       ARRAY(SELECT sections.name FROM sections WHERE sections.show_id = shows.id ORDER BY sections.position),
       ARRAY(SELECT categories.id FROM categories WHERE categories.show_id = shows.id ORDER BY categories.position)
FROM shows
WHERE shows.id = CAST(:show_id AS uuid)
