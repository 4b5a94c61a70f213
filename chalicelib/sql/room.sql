-- Every seat of the show in layout order, for the immutable layout document.
SELECT seats.section_position, seats.row_label, seats.id, seats.number, seats.category_id, seats.accessible
FROM seats
WHERE seats.show_id = :show_id
ORDER BY seats.ordinal
