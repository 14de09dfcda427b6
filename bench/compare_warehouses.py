"""Compare every table two aispend warehouses share, row for row, numbers rounded to 1e-9.

Used to show a change keeps every number: run the demo before and after (`aispend demo --no-serve --out DIR`)
and compare the two warehouse files. Bookkeeping tables that record when or where a run happened (ingest_log,
changed_days, mart_builds, alerts_sent, schema_migrations) are compared by row count only.

    python bench/compare_warehouses.py before/warehouse/aispend.duckdb after/warehouse/aispend.duckdb
"""

from __future__ import annotations

import argparse
import sys

import duckdb

BOOKKEEPING = {"ingest_log", "changed_days", "mart_builds", "alerts_sent", "schema_migrations", "check_results",
               "closed_months"}
# Columns that name where a file sat, which moves with the project folder (a key relative to the source's path
# since the units rework; an absolute path before it).
LOCATION_COLUMNS = {"x_source_file"}


def columns(con: duckdb.DuckDBPyConnection, db: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? AND table_name = ? "
        "ORDER BY ordinal_position", [db, table]).fetchall()
    return dict(rows)


def normalized(db: str, table: str, cols: dict[str, str]) -> str:
    parts = []
    for name, dtype in cols.items():
        quoted = f'"{name}"'
        if dtype in ("DOUBLE", "FLOAT") or dtype.startswith("DECIMAL"):
            parts.append(f"CAST(round({quoted}, 9) AS DECIMAL(38, 9)) AS {quoted}")
        else:
            parts.append(quoted)
    return f"SELECT {', '.join(parts)} FROM {db}.{table}"


def compare(before: str, after: str) -> int:
    con = duckdb.connect()
    con.execute(f"ATTACH '{before}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{after}' AS b (READ_ONLY)")
    tables_a = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog='a'").fetchall()}
    tables_b = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog='b'").fetchall()}
    failures = 0
    for table in sorted(tables_a | tables_b):
        if table not in tables_a or table not in tables_b:
            print(f"{table:22s} only in {'after' if table in tables_b else 'before'}")
            continue
        na = con.execute(f"SELECT count(*) FROM a.{table}").fetchone()[0]
        nb = con.execute(f"SELECT count(*) FROM b.{table}").fetchone()[0]
        if table in BOOKKEEPING:
            print(f"{table:22s} {na:>9,} / {nb:>9,} rows (bookkeeping: counts only)")
            continue
        ca, cb = columns(con, "a", table), columns(con, "b", table)
        shared = {k: v for k, v in ca.items() if k in cb and k not in LOCATION_COLUMNS}
        extra = sorted(set(ca) ^ set(cb))
        qa, qb = normalized("a", table, shared), normalized("b", table, shared)
        only_a = con.execute(f"SELECT count(*) FROM (({qa}) EXCEPT ALL ({qb}))").fetchone()[0]
        only_b = con.execute(f"SELECT count(*) FROM (({qb}) EXCEPT ALL ({qa}))").fetchone()[0]
        ok = only_a == 0 and only_b == 0 and na == nb
        failures += not ok
        note = f"; columns in one only: {', '.join(extra)}" if extra else ""
        print(f"{table:22s} {na:>9,} / {nb:>9,} rows  {'equal' if ok else f'DIFFER ({only_a} only before, {only_b} only after)'}{note}")
    return failures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before")
    p.add_argument("after")
    args = p.parse_args()
    failures = compare(args.before, args.after)
    print("every shared table equal" if not failures else f"{failures} table(s) differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
