-- Usage events of a chunk of days [?, ?), and from the day either side (the run margin) only the events of the
-- runs the chunk holds, so each of its runs is seen whole without reading three days for one (pipelines/reads.py).
-- A run is keyed as the transforms key it: its run_id, else its request_id (pipelines/transforms/roi.py).
-- Parameters: the chunk [start, end); the margin before it [start, end) and after it [start, end); the chunk again.
SELECT {columns} FROM usage_events WHERE event_time >= ? AND event_time < ?
UNION ALL
SELECT {columns} FROM usage_events
WHERE ((event_time >= ? AND event_time < ?) OR (event_time >= ? AND event_time < ?))
  AND coalesce(run_id, request_id) IN (
      SELECT coalesce(run_id, request_id) FROM usage_events WHERE event_time >= ? AND event_time < ?)
