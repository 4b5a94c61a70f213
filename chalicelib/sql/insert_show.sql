INSERT INTO shows (id, name, start_time, total_seats)
VALUES (:show_id, :name, :start_time, :total_seats)
RETURNING id, name, start_time, total_seats, total_seats
