-- 0043: the newest exchange rate per currency, for the Data health page (docs/finance.md, "Currency"): a view
-- over fx_rates, published as a small snapshot so the dashboard can say which lines convert past it.
CREATE VIEW IF NOT EXISTS fx_latest AS
SELECT currency,
       max(day)                       AS newest_day,          -- the newest published rate
       arg_max(source, day)           AS source,              -- ECB reference rates, or the fx_rates file
       any_value(reporting_currency)  AS reporting_currency
FROM fx_rates
GROUP BY currency;
