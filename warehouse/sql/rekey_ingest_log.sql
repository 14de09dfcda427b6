-- A moved file's history follows it to its new key (its location relative to the source's path).
UPDATE ingest_log SET location = ? WHERE source = ? AND location = ?
