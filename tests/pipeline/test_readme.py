"""The README's config example is a config aispend accepts, and its sources table lists every kind."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.config import load_config
from pipelines.sources import kinds

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_config_example_loads(tmp_path):
    section = README[README.index("## Configuration"):]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    (tmp_path / "aispend.yaml").write_text(example)
    config = load_config(tmp_path / "aispend.yaml")
    assert {s.kind for s in config.sources} >= {"focus", "aws_cur", "otel_genai", "openai_costs"}
    assert config.budgets and config.alerts and config.prices.discounts and config.model_aliases


def test_sources_table_lists_every_kind():
    table = README[README.index("### Sources"):README.index("### How your logs")]
    listed = set(re.findall(r"`([a-z_]+)`", "\n".join(line.split("|")[1] for line in table.splitlines()
                                                     if line.startswith("| `"))))
    assert listed == kinds()
