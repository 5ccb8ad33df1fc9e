-- Empty listing_words before a fit writes it again from listings (insert_listing_words.sql).
DELETE FROM listing_words;
