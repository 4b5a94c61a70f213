SELECT token_hash FROM hold_tokens WHERE hold_id = :hold_id
