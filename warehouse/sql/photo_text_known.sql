-- The photos that a reader has already read (so a fit reads only the others), errors included.
SELECT image_path
FROM photo_text
WHERE reader = $reader;
