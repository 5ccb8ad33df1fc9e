-- The words printed on each indexed listing photo, as the sleeve reader reads them (a sticker such as
-- '180g' or 'DELUXE', the title, a label). Two pressings of one album share their artwork and title and
-- differ in such print; pricing compares it with what was read on the query photo (docs/price.md,
-- session 23). Written by each fit for the photos it has not read yet; a photo read once is not read again.
CREATE TABLE photo_text (
    image_path  VARCHAR PRIMARY KEY,  -- images.path of the photo, as price_index.image_path
    lines       VARCHAR[],            -- the lines read, top to bottom as found; NULL when it could not be read
    error       VARCHAR,              -- why it could not be read (the photo or the reader), else NULL
    reader      VARCHAR NOT NULL,     -- which reader and settings read it: rows of another are read again
    read_at     TIMESTAMPTZ NOT NULL  -- when
);
