"""File units hold a bounded number of files' bytes: planning fingerprints every unit of a source and loads none,
so keeping each file's bytes until it is loaded would hold the whole source in memory (tens of GB at 100M
events). They hold the last `TOGETHER` small files (a group read together is then read once) and one file
otherwise; a unit loaded right after its fingerprint is read only once."""

from __future__ import annotations

from pipelines.config import AispendConfig, SourceConfig
from pipelines.sources import spec, units

HEADER = "timestamp,provider,model,input_tokens,output_tokens\n"


def _counting(monkeypatch) -> list[str]:
    reads: list[str] = []
    real = units.storage_for

    class Counting:
        def __init__(self, storage):
            self.storage = storage

        def list(self, *args):
            return self.storage.list(*args)

        def read(self, location):
            reads.append(location)
            return self.storage.read(location)

    monkeypatch.setattr(units, "storage_for", lambda *args: Counting(real(*args)))
    return reads


def _three_days(tmp_path) -> tuple[AispendConfig, SourceConfig]:
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        (tmp_path / f"{day}.csv").write_text(HEADER + f"{day}T10:00:00Z,openai,gpt-4o,100,10\n")
    source = SourceConfig(name="csv", kind="usage_csv", path="*.csv")
    return AispendConfig(base_dir=str(tmp_path), sources=[source]), source


def test_fingerprints_hold_the_last_small_files_and_the_unit_loaded_next_is_read_once(tmp_path, monkeypatch):
    config, source = _three_days(tmp_path)
    reads = _counting(monkeypatch)
    monkeypatch.setattr(units, "TOGETHER", 2)
    monkeypatch.setattr(units, "_HELD_GROUPS", 1)  # one group of two small files
    planned = units.file_units(config, source, spec("usage_csv"))
    assert [u.key for u in planned] == ["2026-11-01.csv", "2026-11-02.csv", "2026-11-03.csv"]
    fingerprints = [u.fingerprint() for u in planned]
    assert len(reads) == 3 and len(set(fingerprints)) == 3
    assert planned[-1].load().height == 1      # the two files fingerprinted last are still held: no second read
    assert planned[1].load().height == 1
    assert len(reads) == 3
    assert planned[0].load().height == 1       # the first was let go: read again
    assert reads[-1].endswith("2026-11-01.csv") and len(reads) == 4
    assert planned[0].fingerprint() == fingerprints[0]


def test_big_files_are_held_one_a_group_for_the_groups_read_ahead(tmp_path, monkeypatch):
    """Loads run on ingest's worker threads up to READ_AHEAD groups behind the fingerprints: the newest
    _HELD_GROUPS files are held whatever their size, and older big ones let go."""
    config, source = _three_days(tmp_path)
    reads = _counting(monkeypatch)
    monkeypatch.setattr(units, "SMALL_FILE_BYTES", 10)  # every file here is "big"
    monkeypatch.setattr(units, "TOGETHER", 1)
    monkeypatch.setattr(units, "_HELD_GROUPS", 2)
    planned = units.file_units(config, source, spec("usage_csv"))
    [u.fingerprint() for u in planned]
    assert planned[-1].load().height == 1 and planned[1].load().height == 1 and len(reads) == 3
    assert planned[0].load().height == 1 and len(reads) == 4  # let go when the third file was read
    assert all(u.load_together is None for u in planned)  # a kind that reads one file at a time


def test_a_file_read_by_two_threads_at_once_is_held_and_counted_once():
    fetched = units._Fetched()

    def read(location: str) -> bytes:
        if not fetched.held:  # another thread fetches the same file while this read runs
            fetched.get(location, lambda _: b"abc")
        return b"abc"

    assert fetched.get("day.jsonl", read) == b"abc"
    assert list(fetched.held) == ["day.jsonl"] and fetched.size == 3
