-- Rows for the grade-effects fit: sold single-album listings with a price and at least one grade.
-- item groups listings of one album: artist + release year + currency (title text varies too much between sellers).
SELECT
    lower(trim(artist)) || '|' || release_year::VARCHAR || '|' || currency AS item,
    media_grade,
    sleeve_grade,
    total_price,            -- in currency; the fit is on log price, so currencies only shift item effects
    currency
FROM listings
WHERE sold
  AND total_price > 0
  AND artist IS NOT NULL AND release_year IS NOT NULL
  AND NOT contains(artist, ',')   -- lots of several albums have no single item
  AND (media_grade IS NOT NULL OR sleeve_grade IS NOT NULL);
