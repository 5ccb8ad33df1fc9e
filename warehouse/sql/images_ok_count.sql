-- Photos downloaded and stored (anything the embed step could work on).
SELECT count(*) FROM images WHERE status = 'ok' AND sha256 IS NOT NULL;
