SELECT show_id, id, name, price
FROM categories
WHERE show_id = ANY(CAST(:show_ids AS uuid[]))
ORDER BY show_id, position
