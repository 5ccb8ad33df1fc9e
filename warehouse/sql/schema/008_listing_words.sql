-- The words of each listing's title and artist, one row per distinct word of 3 characters or more, sorted
-- by word. The name search (listings_named_on_sleeve.sql) looks up the words read on a sleeve here instead
-- of splitting every title for every photo: 0.83-0.86 s a search at 1M listings before, ~55 ms with this
-- table (docs/price.md, session 22). Rebuilt by soldsight.price.index.store_index at each fit (all of it:
-- 0.4 s at 100k listings, 4.3 s at 1M); filled here for a warehouse fitted before the table existed.
CREATE TABLE listing_words (
    source      VARCHAR NOT NULL,   -- listings.source
    listing_id  VARCHAR NOT NULL,   -- listings.listing_id
    word        VARCHAR NOT NULL    -- lower case; split on spaces and / , & + - (other punctuation stays in the word)
);

INSERT INTO listing_words
SELECT DISTINCT l.source, l.listing_id, w.word
FROM listings AS l,
     unnest(string_split(translate(lower(coalesce(l.title, '') || ' ' || coalesce(l.artist, '')), '/,&+-', '     '),
                         ' ')) AS w(word)
WHERE length(w.word) >= 3
ORDER BY w.word, l.source, l.listing_id;
