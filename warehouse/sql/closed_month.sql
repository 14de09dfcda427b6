-- One closed month's row (none when the month is open): its closed billed AI spend and currency.
SELECT billed_cost, currency FROM closed_months WHERE month = ?
