-- A show's categories in layout order, from parallel arrays.
INSERT INTO categories (show_id, id, name, price, position)
SELECT :show_id, category.id, category.name, category.price, category.position - 1
FROM unnest(CAST(:ids AS text[]), CAST(:names AS text[]), CAST(:prices AS integer[]))
     WITH ORDINALITY AS category (id, name, price, position)
