-- A seat as the API describes it: its section's name and its category's price beside it.
-- The seat list, a booking's and a hold's seats all read it, so the joins are written once.
CREATE VIEW seat_details AS
SELECT seats.id, seats.show_id, seats.row_label, seats.number, sections.name AS section, seats.category_id,
       seats.accessible, categories.price, seats.ordinal
FROM seats
JOIN sections ON sections.show_id = seats.show_id AND sections.position = seats.section_position
JOIN categories ON categories.show_id = seats.show_id AND categories.id = seats.category_id;
