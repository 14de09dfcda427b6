-- 0052: a local file's size and modification time (nanoseconds) when it was read, as "size:mtime_ns". Planning
-- fingerprints every unit of every source to find what changed; with an unchanged version it takes the checksum
-- logged with it instead of reading and hashing the file again (a daily run over a long history would read all
-- of it: 2.35 GB at 10M events; docs/operations.md, "What a run reads").
ALTER TABLE ingest_log ADD COLUMN IF NOT EXISTS file_version VARCHAR;
