INSERT INTO ingest_log (source, kind, location, checksum, price_version, rows, status, error, loaded_at, file_version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
