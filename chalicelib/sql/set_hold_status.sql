UPDATE holds SET status = :status, booking_id = :booking_id WHERE id = :hold_id
