INSERT INTO booking_tokens (token_hash, booking_id) VALUES (:token_hash, :booking_id)
