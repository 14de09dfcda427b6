"""Money as finance reads it (docs/finance.md): closing months, chargeback, the month-to-date estimate, exports
and the monthly report. The currency conversion itself is a transform (pipelines/transforms/currency.py) over
the rate table pipelines/fx.py builds."""
