"""Every table the pages register, on the app the server builds: what it shows are columns its builder returns.

The builders return the queries' or the marts' columns (dashboard.data, warehouse/schema.py); a table's Column
list only picks and formats them, so a renamed or dropped column fails here rather than as a blank cell.
"""

from __future__ import annotations

from datetime import date

import pytest

from dashboard import data, tables
from tests.support.snapshots import LAST_DAY, write_snapshot


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return write_snapshot(tmp_path_factory.mktemp("dash-tables"))


@pytest.fixture(scope="module")
def registered(snapshot) -> dict[str, tables.Table]:
    from dashboard.app import create_app

    create_app(snapshot)  # Dash imports the page modules, which register their tables
    return dict(tables.TABLES)


def test_every_page_table_shows_columns_its_builder_returns(snapshot, registered):
    assert {"tasks", "models", "whatif", "budgets", "anomalies", "reconciliation", "unattributed", "unpriced",
            "waste_summary", "waste_detail", "sources", "quarantined", "coverage", "snapshots"} <= set(registered)
    f = data.Filters(data.Period(date(2026, 3, 2), LAST_DAY))
    for name, table in registered.items():
        frame = table.build(snapshot, f)
        shown = [c.name for c in table.columns]
        assert set(shown) <= set(frame.columns), (name, set(shown) - set(frame.columns))
        assert frame.height > 0, name
