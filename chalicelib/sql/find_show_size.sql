SELECT total_seats FROM shows WHERE id = :show_id
