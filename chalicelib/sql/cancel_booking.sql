UPDATE bookings SET status = 'CANCELLED', cancelled_at = now()
WHERE id = :booking_id AND status = 'CONFIRMED'
