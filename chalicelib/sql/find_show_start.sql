SELECT start_time <= now() AS started FROM shows WHERE id = :show_id
