-- The lines read on the given photos (photos never read, or unreadable, are absent).
SELECT image_path, lines
FROM photo_text
WHERE image_path IN (SELECT unnest($paths::VARCHAR[]))
  AND lines IS NOT NULL;
