-- One page of the show list, cut by keyset on (start_time, id): upcoming shows (start_time after
-- now(), the instant at which booking closes with SHOW_STARTED) soonest first, or with :past the
-- shows that have started, latest first. :after_time, :after_id is the last show of the previous
-- page, NULL for the first page (the listing's far end). :page_size is one more than the page,
-- so that the caller can tell whether a next page exists.
-- Each branch walks shows_start_time_idx from the cursor (the row comparison bounds the index
-- scan) and stops after :page_size rows; only the shows of the page have their claims counted.
WITH page AS (
    (SELECT id, name, start_time, total_seats, currency, hold_minutes, max_seats_per_user,
            row_number() OVER (ORDER BY start_time, id) AS position
     FROM shows
     WHERE NOT :past AND start_time > now()
       AND (start_time, id) > (coalesce(CAST(:after_time AS timestamptz), '-infinity'),
                               coalesce(CAST(:after_id AS uuid), '00000000-0000-0000-0000-000000000000'))
     ORDER BY start_time, id
     LIMIT :page_size)
    UNION ALL
    (SELECT id, name, start_time, total_seats, currency, hold_minutes, max_seats_per_user,
            row_number() OVER (ORDER BY start_time DESC, id DESC) AS position
     FROM shows
     WHERE :past AND start_time <= now()
       AND (start_time, id) < (coalesce(CAST(:after_time AS timestamptz), 'infinity'),
                               coalesce(CAST(:after_id AS uuid), 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
     ORDER BY start_time DESC, id DESC
     LIMIT :page_size)
)
SELECT page.id, page.name, page.start_time, page.total_seats,
       page.total_seats - (SELECT count(*) FROM seat_bookings WHERE seat_bookings.show_id = page.id
                           AND (seat_bookings.expires_at IS NULL OR seat_bookings.expires_at >= now())),
       page.currency, page.hold_minutes, page.max_seats_per_user
FROM page
ORDER BY page.position
