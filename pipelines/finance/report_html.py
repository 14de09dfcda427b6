"""The monthly report's page: sections, tables and inline styles (print-friendly), filled from ReportData.

Every amount is written with its currency and every figure says its basis (billed or effective; measured or
estimated), as the rest of aispend does (docs/finance.md). Text is escaped; nothing loads from elsewhere.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from pipelines.finance.money import money

if TYPE_CHECKING:
    from pipelines.finance.report import ReportData

STYLE = """
:root { --ink: #1f2933; --muted: #5f6b76; --line: #d9dee3; --accent: #3b6ea8; --gain: #2f7a45; --loss: #b23b37; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 900px; padding: 32px 28px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 2px solid
var(--line); padding-bottom: 4px; } .muted { color: var(--muted); } .status { display: inline-block; padding: 2px
10px; border-radius: 10px; font-size: 12px; font-weight: 600; } .closed { background: #e3efe6; color: var(--gain); }
.open { background: #fbeee0; color: #8a5a1c; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin-top: 16px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .label { font-size: 12px; color: var(--muted); } .card .value { font-size: 20px; font-weight: 600; }
.card .note { font-size: 11.5px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 6px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; } td.num, th.num { text-align: right;
font-variant-numeric: tabular-nums; white-space: nowrap; } tr.total td { font-weight: 700; border-top: 2px solid
var(--ink); } .up { color: var(--loss); } .down { color: var(--gain); }
svg text { font: 12px -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; fill: var(--ink); }
svg .val { fill: var(--muted); } svg .axis { stroke: #8895a1; stroke-width: 1; }
section { break-inside: avoid; page-break-inside: avoid; }
footer { margin-top: 28px; font-size: 11.5px; color: var(--muted); border-top: 1px solid var(--line);
         padding-top: 8px; }
@page { size: A4; margin: 14mm; }
@media print { body { padding: 0; max-width: none; } h2 { break-after: avoid; } a { color: inherit; } }
"""


def _cell(value, *, numeric: bool = False, css: str = "") -> str:
    classes = " ".join(c for c in ("num" if numeric else "", css) if c)
    return f'<td class="{classes}">{escape(str(value))}</td>' if classes else f"<td>{escape(str(value))}</td>"


def _table(headers: list[str], rows: list[list[str]], numeric: set[int], total: list[str] | None = None) -> str:
    head = "".join(f'<th class="num">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(_cell(v, numeric=i in numeric) for i, v in enumerate(r)) + "</tr>" for r in rows)
    if total:
        body += '<tr class="total">' + "".join(_cell(v, numeric=i in numeric) for i, v in enumerate(total)) + "</tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _pct(change: float, base: float) -> str:
    return "new" if base == 0 else f"{change / abs(base):+,.1%}"


def _cards(data: ReportData, this: float, before: float) -> str:
    c = data.currency
    logs_only = float(data.figures.filter((data.figures["month"] == data.month) & (data.figures["basis"] == "logs_only"))
                      ["cost"].sum() or 0.0)
    savings = data.savings["reported_net_savings_usd"].fill_null(0.0).sum() if data.savings.height else 0.0
    measured = data.savings.filter(data.savings["roi_basis"] == "measured") if data.savings.height else data.savings
    moved = float(data.changes_after_close["billed_change_reporting"].sum() or 0.0) \
        if data.changes_after_close.height else 0.0
    cards = [
        ("AI spend", money(this, c), f"{data.cost_basis}; {money(logs_only, c)} of it priced from logs where no "
         "invoice has arrived"),
        (f"vs {data.previous:%B}", f"{'+' if this >= before else '-'}{money(abs(this - before), c)}",
         f"{_pct(this - before, before)} against {money(before, c)}"),
        ("Net savings", money(savings, c),
         f"after AI and review cost; {money(measured['reported_net_savings_usd'].sum() if measured.height else 0.0, c)}"
         f" of it measured from work records ({measured.height} task(s)), the rest estimated from the catalog"),
        ("Changes after close", f"{data.changes_after_close.height} lines",
         f"would move the month by {money(moved, c)}" if data.closed else "the month is not closed"),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="label">{escape(label)}</div><div class="value">{escape(value)}</div>'
        f'<div class="note">{escape(note)}</div></div>' for label, value, note in cards) + "</div>"


def _savings(data: ReportData) -> str:
    c = data.currency
    ran = data.savings.filter((data.savings["runs"] > 0) | (data.savings["allocated_cost_usd"].fill_null(0) != 0))
    rows = [[r["task"], f"{r['runs']:,}", f"{r['successes']:,}", money(r["allocated_cost_usd"], c),
             money(r["allocated_net_savings_usd"], c),
             money(r["measured_net_savings_usd"], c) if r["roi_basis"] == "measured" else "—",
             money(r["reported_net_savings_usd"], c), "measured" if r["roi_basis"] == "measured" else "estimated"]
            for r in ran.sort("reported_net_savings_usd", descending=True, nulls_last=True).iter_rows(named=True)]
    if not rows:
        return '<p class="muted">No task ran this month.</p>'
    return ("<p class=\"muted\">Measured: the month's AI-assisted work items x the minutes saved per item that "
            "work records show against baseline work x the hourly rate, minus the allocated AI cost and the review "
            "time (docs/evidence.md). Estimated: successes x the catalog's minutes and hourly rate, minus the same "
            "costs. Net savings takes the measured figure where work records measure the task.</p>"
            + _table(["task", "runs", "successes", "AI cost", "estimated", "measured", "net savings", "basis"], rows,
                     {1, 2, 3, 4, 5, 6}))


def _chargeback(data: ReportData) -> str:
    if not data.chargeback.height:
        return '<p class="muted">No chargeback rows for this month.</p>'
    c = data.currency
    rows = [[r["team"] or "(no team)", r["cost_center"] or "—", money(float(r["direct_cost"]), c),
             money(float(r["seats_cost"]), c), money(float(r["shared_cost"]), c), money(float(r["total_cost"]), c)]
            for r in data.chargeback.iter_rows(named=True)]
    sums = [float(data.chargeback[col].sum()) for col in ("direct_cost", "seats_cost", "shared_cost", "total_cost")]
    rule = data.chargeback["rule"][0]
    return (f'<p class="muted">Shared cost (GPU compute, credits, requests that named no task or team) spread '
            f'<b>{escape(rule)}</b>; amounts rounded to the cent so the teams add up to the month exactly.</p>'
            + _table(["team", "cost center", "direct", "seats & overage", "shared", "total"], rows, {2, 3, 4, 5},
                     ["Total", "", *[money(v, c) for v in sums]]))


def page(data: ReportData, this: float, before: float, charts: dict[str, str], changes: list[dict]) -> str:
    c = data.currency
    if data.closed:
        status = (f'<span class="status closed">Closed by {escape(data.closed["closed_by"])} on '
                  f'{data.closed["closed_at"]:%Y-%m-%d}</span> <span class="muted">closed figures: they do not '
                  f'move with later deliveries</span>')
    else:
        status = '<span class="status open">Open</span> <span class="muted">figures may still move</span>'
    change_rows = [[r["dimension"], r["name"], money(r["before"], c), money(r["now"], c),
                    f"{'+' if r['change'] >= 0 else '-'}{money(abs(r['change']), c)}", _pct(r["change"], r["before"])]
                   for r in changes]
    budget_rows = [[b["name"], b["scope"], money(b["budget"], c), money(b["actual"], c), f"{b['share']:.0%}",
                    b["status"]] for b in data.budgets]
    after_close = ""
    if data.closed and data.changes_after_close.height:
        rows = [[r["change"], r["x_line_id"], r["provider"] or "—", r["model"] or "—", str(r["charge_day"]),
                 money(r["billed_change_reporting"], c)] for r in data.changes_after_close.head(15).iter_rows(named=True)]
        after_close = ("<section><h2>Changes after close</h2><p class=\"muted\">Lines delivered after the close that "
                       "would change the month (not in the figures above).</p>"
                       + _table(["change", "line", "provider", "model", "charge day", "amount"], rows, {5})
                       + "</section>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>AI spend report {data.month:%B %Y}</title><style>{STYLE}</style></head>
<body>
<header><h1>AI spend report: {data.month:%B %Y}</h1>
<div>{status}</div>
<p class="muted">All amounts in {escape(c)}, {escape(data.cost_basis)} cost (allocated to tasks and teams; the
invoice where loaded, the logs' priced usage where not), against {data.previous:%B %Y}.</p></header>
{_cards(data, this, before)}
<section><h2>Spend</h2>{charts["provider"]}{charts["team"]}</section>
<section><h2>Savings</h2>{_savings(data)}</section>
<section><h2>Largest changes against {data.previous:%B}</h2>
{_table(["by", "name", f"{data.previous:%B}", f"{data.month:%B}", "change", "%"], change_rows, {2, 3, 4, 5})
  if change_rows else '<p class="muted">Nothing moved.</p>'}</section>
<section><h2>Budgets</h2>
{_table(["budget", "scope", "monthly budget", "spent", "used", "status"], budget_rows, {2, 3, 4})
  if budget_rows else '<p class="muted">No budgets configured.</p>'}</section>
<section><h2>Chargeback</h2>{_chargeback(data)}</section>
{after_close}
<footer>aispend monthly report for {data.month:%Y-%m}, generated {data.generated_at:%Y-%m-%d %H:%M} UTC.
Billed = cash on the invoice; effective = amortized; never added together. Amounts in other currencies were
converted at each charge day's ECB reference rate (or the fx_rates file). See docs/finance.md.</footer>
</body></html>
"""
