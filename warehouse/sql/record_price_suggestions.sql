-- Store a batch of answers, registered as new_price_suggestions (an Arrow table, one row per suggestion_id).
-- The same photo, inputs and models give the same suggestion_id, so re-running replaces the row.
INSERT OR REPLACE INTO price_suggestions
    (suggestion_id, photo, photo_sha256, embed_model_id, index_id, price_model_id, inputs, status, reason,
     match_listing_id, match_title, similarity, suggested_price, low, high, currency, n_comparables, output, created_at)
SELECT suggestion_id, photo, photo_sha256, embed_model_id, index_id, price_model_id, inputs::JSON, status, reason,
       match_listing_id, match_title, similarity, suggested_price, low, high, currency, n_comparables, output::JSON, now()
FROM new_price_suggestions;
