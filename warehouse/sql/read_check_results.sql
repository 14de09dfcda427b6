-- The stored check verdicts (the latest evaluation), for carrying over when each last changed.
SELECT check_name, asset, passed, changed_at FROM check_results
