-- A show's section names in layout order: what best available searches, without counting claims.
SELECT name FROM sections WHERE show_id = :show_id ORDER BY position
