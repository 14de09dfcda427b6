-- Usage lines without a BilledCost or EffectiveCost (must be none: a usage line with no cost would silently
-- count as $0). The first lines, with how many there are in all.
SELECT
    x_source AS source,
    x_source_file AS file,
    x_line_id,
    ChargePeriodStart,
    ServiceName,
    BilledCost,
    EffectiveCost,
    count(*) OVER () AS offending
FROM cost_lines
WHERE ChargeCategory = 'Usage' AND (BilledCost IS NULL OR EffectiveCost IS NULL)
ORDER BY x_source, x_source_file, x_line_id
LIMIT 20
