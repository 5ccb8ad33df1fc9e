-- Every image URL already downloaded, with its file: a URL fetched once is not fetched again.
SELECT source, listing_id, url, sha256, path, width, height, format, bytes, fetched_url
FROM images
WHERE status = 'ok'
ORDER BY url, source, listing_id;
