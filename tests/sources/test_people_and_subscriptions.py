"""The people file and the subscriptions file: YAML and CSV, normalized names, refusals that name no person."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from pipelines.config import SourceConfig
from pipelines.errors import SourceError
from pipelines.plans import plan_id, vendor_id
from pipelines.sources import people, subscriptions

PEOPLE = SourceConfig(name="people", kind="people", path="people.yaml")
SUBS = SourceConfig(name="subs", kind="subscriptions", path="subs.yaml")


def _read(module, source, name: str, text: str):
    return module.read(name, source, data=textwrap.dedent(text).encode())


def test_people_yaml_gives_one_row_per_identity():
    frame = _read(people, PEOPLE, "people.yaml", """
        people:
          - person: Ana Lima
            team: platform
            email: [ana@acme.com, ana.lima@acme.com]
            github: analima
            machine_user: ana
          - {person: Bob King, team: data, since: 2026-11-01, api_key: bob-laptop, user_id: 42}
        """)
    assert frame.select("identity", "identity_kind", "person", "team", "valid_from").rows() == [
        ("ana@acme.com", "email", "Ana Lima", "platform", None),
        ("ana.lima@acme.com", "email", "Ana Lima", "platform", None),
        ("analima", "github", "Ana Lima", "platform", None),
        ("ana", "machine_user", "Ana Lima", "platform", None),
        ("bob-laptop", "api_key", "Bob King", "data", date(2026, 11, 1)),
        ("42", "user_id", "Bob King", "data", date(2026, 11, 1)),
    ]
    assert set(frame["x_source"]) == {"people"}


def test_people_csv_and_its_refusals_name_entries_not_people():
    frame = _read(people, PEOPLE, "people.csv", """\
        person,team,kind,identity,since
        Ana Lima,platform,email,ana@acme.com,
        Ana Lima,ml,email,ana@acme.com,2026-12-01
        """)
    assert frame.select("identity", "team", "valid_from").rows() == [
        ("ana@acme.com", "platform", None), ("ana@acme.com", "ml", date(2026, 12, 1))]
    with pytest.raises(SourceError) as clash:
        _read(people, PEOPLE, "people.yaml", """
            - {person: Ana Lima, email: ana@acme.com}
            - {person: Bob King, email: ANA@acme.com}
            """)
    assert "entry 2: an identity of this entry is already given to another person (entry 1)" in clash.value.message
    for text, reason in [("- {person: Ana, emial: a@b.c}", "entry 1: unknown field(s) emial"),
                         ("- {person: Ana, team: x}", "entry 1: names no identity"),
                         ("- {email: a@b.c}", "entry 1: missing person"),
                         ("- {person: Ana, email: {x: 1}}", "entry 1: email takes a value or a list of values"),
                         ("- [Ana", "not valid YAML near line")]:
        with pytest.raises(SourceError) as refused:
            _read(people, PEOPLE, "people.yaml", text)
        assert reason in refused.value.message
        assert "a@b.c" not in refused.value.message and "Ana" not in refused.value.message.split(": ", 1)[1]


def test_subscriptions_normalize_vendor_plan_and_price():
    frame = _read(subscriptions, SUBS, "subs.yaml", """
        subscriptions:
          - {vendor: Claude, plan: Max 200, person: ana@acme.com, start: 2026-01-01}
          - {vendor: ChatGPT, plan: ChatGPT Team, seats: 6, monthly_price: 25, start: 2026-03-01, end: 2026-06-30}
          - {vendor: openai, plan: Plus, person: Bob King, monthly_price: 23, currency: eur, start: 2026-05-01}
          - {vendor: Windsurf, plan: Pro, person: cy@acme.com, monthly_price: 15, start: 2026-05-01}
        """)
    assert frame.select("vendor", "plan", "identity", "seat_count", "monthly_price", "currency", "monthly_price_usd",
                        "price_source", "start_date", "end_date").rows() == [
        ("anthropic", "max_20x", "ana@acme.com", 1, 200.0, "USD", 200.0, "plan_list_price", date(2026, 1, 1), None),
        ("openai", "business", None, 6, 25.0, "USD", 25.0, "subscriptions", date(2026, 3, 1), date(2026, 6, 30)),
        ("openai", "plus", "Bob King", 1, 23.0, "EUR", None, "subscriptions", date(2026, 5, 1), None),
        ("windsurf", "pro", "cy@acme.com", 1, 15.0, "USD", 15.0, "subscriptions", date(2026, 5, 1), None),
    ]


@pytest.mark.parametrize("entry, reason", [
    ("{vendor: openai, plan: plus, start: 2026-01-01}", "entry 1: give a person or a number of seats"),
    ("{vendor: openai, plan: plus, person: a@b.c, seats: 3, start: 2026-01-01}", "not both"),
    ("{vendor: openai, plan: plus, seats: 2.5, start: 2026-01-01}", "seats must be a whole number"),
    ("{vendor: openai, plan: plus, seats: 2, monthly_price: -1, start: 2026-01-01}", "monthly_price must be a finite number"),
    ("{vendor: openai, plan: plus, seats: 2, currency: dollars, start: 2026-01-01}", "ISO 4217"),
    ("{vendor: openai, plan: plus, seats: 2, start: 2026-05-01, end: 2026-04-01}", "end is before start"),
    ("{vendor: acme, plan: gold, seats: 2, start: 2026-05-01}", "no list price for acme gold"),
    ("{vendor: openai, plan: plus, seats: 2}", "entry 1: missing start"),
])
def test_subscription_refusals(entry, reason):
    with pytest.raises(SourceError) as refused:
        _read(subscriptions, SUBS, "subs.yaml", f"- {entry}\n")
    assert reason in refused.value.message and "a@b.c" not in refused.value.message


@pytest.mark.parametrize("vendor, name, plan", [
    ("anthropic", "Claude Max 5x", "max_5x"), ("anthropic", "claude max 200", "max_20x"), ("anthropic", "Pro", "pro"),
    ("openai", "ChatGPT Team", "business"), ("github", "Copilot Business", "business"),
    ("github", "Pro+", "pro_plus"), ("cursor", "Cursor Business", "teams"), ("cursor", "Something New", "something_new"),
])
def test_plan_names_as_people_write_them(vendor, name, plan):
    assert plan_id(vendor, name) == plan


def test_vendor_names():
    assert [vendor_id(v) for v in ("GitHub Copilot", "ChatGPT", "Claude Code", "Anysphere", "Acme AI")] == [
        "github", "openai", "anthropic", "cursor", "acme_ai"]
