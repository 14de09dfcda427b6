-- The AI lines of the bill (every line the usage-facing marts look at) charged in a window of days [?, ?);
-- the first parameter says whether lines with no charge period count too (a whole-bill read).
SELECT {columns} FROM cost_lines
WHERE (coalesce(x_is_ai, false) OR x_ai_category IS NOT NULL)
  AND (("ChargePeriodStart" IS NULL AND ?) OR ("ChargePeriodStart" >= ? AND "ChargePeriodStart" < ?))
