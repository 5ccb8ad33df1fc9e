-- The printed words of the photos registered as new_photo_text (an Arrow table); a photo read again (by
-- another reader) replaces its row.
INSERT OR REPLACE INTO photo_text (image_path, lines, error, reader, read_at)
SELECT image_path, lines, error, reader, read_at
FROM new_photo_text;
