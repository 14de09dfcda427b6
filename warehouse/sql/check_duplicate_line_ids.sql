-- Line ids that occur more than once in cost_lines (must be none).
SELECT x_line_id, count(*) AS copies
FROM cost_lines
GROUP BY x_line_id
HAVING count(*) > 1
ORDER BY copies DESC, x_line_id
LIMIT 20
