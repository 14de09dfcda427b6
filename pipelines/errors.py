"""The one error a reader raises for bad input, carrying what a person needs to find and fix it."""

from __future__ import annotations


class SourceError(Exception):
    """A file or API page that failed to parse or validate; the whole unit is quarantined.

    Never put secrets or prompt text in `reason`: it lands in ingest_log and in the logs.
    """

    def __init__(self, location: str, reason: str, *, row: int | None = None, column: str | None = None,
                 unit: str = "row"):
        self.location = str(location)
        self.reason = " ".join(str(reason).split())  # one line: a reason lands in a table cell and a log line
        self.row = row
        self.column = column
        self.unit = unit  # what `row` counts: "row" (a CSV's data row), "line", "record" (docs/operations.md)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = [self.location]
        if self.row is not None:
            where.append(f"{self.unit} {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.reason}"


class TransientError(SourceError):
    """A failure that says nothing about the input (S3 5xx, throttling, a timeout, a dropped connection).

    Not quarantined: the unit is left as it was and the asset fails after the other units and sources have
    loaded, so Dagster's retry policy runs it again (unchanged units are skipped on the retry).
    """
