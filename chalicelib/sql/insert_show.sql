INSERT INTO shows (id, name, start_time, total_seats, currency, hold_minutes, max_seats_per_user)
VALUES (:show_id, :name, :start_time, :total_seats, :currency, :hold_minutes, :max_seats_per_user)
RETURNING id, name, start_time, total_seats, total_seats, currency, hold_minutes, max_seats_per_user
