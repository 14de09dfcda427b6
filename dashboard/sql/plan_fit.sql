-- Reads people_in_view. Each person's seat plans at the latest month of the view that can be judged, with the
-- API-equivalent value of what they used against this plan's and the next plan's list price; outgrown and
-- underused first.
SELECT person, team, vendor, plan, month, api_equivalent_usd, plan_price_usd, next_plan, next_plan_price_usd,
       plan_fit, usage_cost_usd
FROM people_in_view
WHERE seats > 0 AND person IS NOT NULL AND plan_fit IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY person, vendor, plan ORDER BY month DESC) = 1
ORDER BY CASE plan_fit WHEN 'outgrown' THEN 0 WHEN 'underused' THEN 1 WHEN 'fits' THEN 2 ELSE 3 END, person, vendor
