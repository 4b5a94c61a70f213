-- A section's free seats after a given ordinal, and each row's ends (migrations/009: what
-- modex_section_seats reads and why). Sent with its values inlined (one round trip).
SELECT * FROM modex_section_seats(CAST(:show_id AS uuid), :section, :after, :limit)
