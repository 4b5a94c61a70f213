INSERT INTO hold_tokens (token_hash, hold_id) VALUES (:token_hash, :hold_id)
