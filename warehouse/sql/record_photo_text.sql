-- One photo's printed words; a photo read again (by another reader) replaces its row.
INSERT OR REPLACE INTO photo_text (image_path, lines, error, reader, read_at)
VALUES ($image_path, $lines, $error, $reader, $read_at);
