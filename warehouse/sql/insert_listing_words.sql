-- The words of each listing's title and artist (schema 008_listing_words.sql), written at each fit. Sorted
-- by word, so that the name search's lookup reads only the row groups holding the words it looks for.
INSERT INTO listing_words
SELECT DISTINCT l.source, l.listing_id, w.word
FROM listings AS l,
     unnest(string_split(translate(lower(coalesce(l.title, '') || ' ' || coalesce(l.artist, '')), '/,&+-', '     '),
                         ' ')) AS w(word)
WHERE length(w.word) >= 3
ORDER BY w.word, l.source, l.listing_id;
