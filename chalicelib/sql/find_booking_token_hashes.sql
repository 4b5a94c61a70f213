SELECT token_hash FROM booking_tokens WHERE booking_id = :booking_id
