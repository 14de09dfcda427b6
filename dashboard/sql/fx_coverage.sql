-- Per billing currency other than the reporting one: the days its lines are charged on and the newest rate
-- they convert with; charge days after that rate take it (docs/finance.md, "Currency").
SELECT s.billing_currency,
       min(s.day)                                                        AS first_day,
       max(s.day)                                                        AS last_day,
       CAST(sum(s.line_count) AS BIGINT)                                 AS lines,
       any_value(f.newest_day)                                           AS newest_rate_day,
       any_value(f.source)                                               AS rate_source,
       CAST(count(DISTINCT s.day) FILTER (WHERE s.day > f.newest_day) AS BIGINT) AS days_after_newest_rate,
       any_value(s.currency)                                             AS currency
FROM spend_daily s
LEFT JOIN fx_latest f ON upper(trim(s.billing_currency)) = f.currency
WHERE upper(trim(s.billing_currency)) <> s.currency
GROUP BY s.billing_currency
ORDER BY s.billing_currency
