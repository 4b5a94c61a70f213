-- The whole layout in one statement: rows labelled A, B, C..., seats numbered from 1.
INSERT INTO seats (show_id, row_label, number)
SELECT :show_id, chr(ascii('A') + row_index), seat_number
FROM generate_series(0, :rows - 1) AS row_index,
     generate_series(1, :seats_per_row) AS seat_number
ORDER BY row_index, seat_number
