-- Closed months, newest first, with what the data delivered since would change in each.
SELECT m.month, m.closed_by, m.closed_at, m.billed_cost, m.lines,
       CAST(count(c.x_line_id) AS BIGINT)                   AS changed_lines,
       CAST(coalesce(sum(c.billed_change_reporting), 0) AS DOUBLE) AS change_amount,
       m.currency
FROM closed_months m
LEFT JOIN changes_after_close c ON c.month = m.month
GROUP BY m.month, m.closed_by, m.closed_at, m.billed_cost, m.lines, m.currency
ORDER BY m.month DESC
