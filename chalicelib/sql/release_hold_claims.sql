-- Frees a hold's seats at once (an expired claim may already belong to someone else: only
-- this hold's rows go).
DELETE FROM seat_bookings WHERE hold_id = :hold_id
