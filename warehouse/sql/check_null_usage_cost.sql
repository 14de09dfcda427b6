-- Usage lines without a cost their export provides (must be none: a usage line with no cost would silently
-- count as $0). Which costs a file provides is read off the file itself: an Azure actual-cost export fills
-- only BilledCost, an amortized one only EffectiveCost (docs/sources/focus_and_azure.md), so a line lacks a
-- cost when its file fills that cost on other usage lines, or when it has neither. The first lines, with how
-- many there are in all.
WITH usage AS (
    SELECT x_source, x_source_file, x_line_id, ChargePeriodStart, ServiceName, BilledCost, EffectiveCost
    FROM cost_lines
    WHERE ChargeCategory = 'Usage'
), provided AS (
    SELECT x_source, x_source_file,
           bool_or(BilledCost IS NOT NULL) AS has_billed,
           bool_or(EffectiveCost IS NOT NULL) AS has_effective
    FROM usage
    GROUP BY ALL
)
SELECT
    u.x_source AS source,
    u.x_source_file AS file,
    u.x_line_id,
    u.ChargePeriodStart,
    u.ServiceName,
    u.BilledCost,
    u.EffectiveCost,
    count(*) OVER () AS offending
FROM usage u JOIN provided p USING (x_source, x_source_file)
WHERE (u.BilledCost IS NULL AND u.EffectiveCost IS NULL)
   OR (u.BilledCost IS NULL AND p.has_billed)
   OR (u.EffectiveCost IS NULL AND p.has_effective)
ORDER BY u.x_source, u.x_source_file, u.x_line_id
LIMIT 20
