-- Frees the seats at once; runs in the same transaction that marks the booking CANCELLED.
DELETE FROM seat_bookings WHERE booking_id = :booking_id
