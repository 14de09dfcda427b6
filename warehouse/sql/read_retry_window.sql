-- What a chunk of days [?, ?) reads to count its re-attempts (waste): its own events, and from the day before
-- (the run margin) only the events of runs that failed there. A re-attempt is counted on its own day, and what
-- it re-attempts came before it: a failure the day before, with whatever that run did after it. The day after
-- holds nothing a chunk day's count needs, and a run that did not fail the day before gives the chunk's first
-- request of it no failed predecessor either way, so this reads far fewer run ids than read_run_window
-- (pipelines/reads.py). A run here is (task, run_id), as the re-attempt count keys it.
-- Parameters: the chunk [start, end); the day before it [start, end) twice.
SELECT {columns} FROM usage_events WHERE event_time >= ? AND event_time < ?
UNION ALL
SELECT {columns} FROM usage_events
WHERE event_time >= ? AND event_time < ?
  AND (task, run_id) IN (
      SELECT task, run_id FROM usage_events
      WHERE event_time >= ? AND event_time < ? AND status = 'error' AND run_id IS NOT NULL)
