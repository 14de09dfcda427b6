"""ApiClient against a real local HTTP server: retries, Retry-After, backoff cap, paging, and no key in errors."""

from __future__ import annotations

import socket
from datetime import date, datetime, timezone

import pytest

from pipelines.errors import SourceError
from pipelines.http_client import ApiClient, parse_retry_after
from tests.support.fake_provider_api import OPENAI_COSTS, FakeProviderApi

WINDOW = {"start_time": 1793491200, "end_time": 1793577600, "bucket_width": "1d"}  # 2026-11-01, one day


@pytest.fixture
def api():
    with FakeProviderApi() as server:
        yield server


def client(api: FakeProviderApi, sleeps: list, key: str | None = None, **kw) -> ApiClient:
    return ApiClient(api.url, {"Authorization": f"Bearer {key or api.openai_key}"}, sleep=sleeps.append, **kw)


def test_429_with_retry_after_seconds_then_ok(api):
    api.fail(OPENAI_COSTS, 429, times=1, retry_after="7", message="rate limited")
    sleeps: list[float] = []
    page = client(api, sleeps).get_json(OPENAI_COSTS, WINDOW)
    assert page["object"] == "page"
    assert sleeps == [7.0]
    assert [r.status for r in api.calls()] == [429, 200]


def test_500_twice_then_ok_backs_off_exponentially(api):
    api.fail(OPENAI_COSTS, 500, times=2)
    sleeps: list[float] = []
    client(api, sleeps, backoff_s=0.5).get_json(OPENAI_COSTS, WINDOW)
    assert sleeps == [0.5, 1.0]
    assert [r.status for r in api.calls()] == [500, 500, 200]


def test_503_forever_gives_up_after_max_retries_with_capped_backoff(api):
    api.fail(OPENAI_COSTS, 503, times=None, message="overloaded, try later")
    sleeps: list[float] = []
    with pytest.raises(SourceError) as err:
        client(api, sleeps, max_retries=4, backoff_s=1, max_backoff_s=3).get_json(OPENAI_COSTS, WINDOW)
    assert len(api.calls()) == 5
    assert sleeps == [1, 2, 3, 3]
    message = err.value.message
    assert "HTTP 503" in message and "overloaded, try later" in message and "5 attempts" in message
    assert err.value.location == f"{api.url}{OPENAI_COSTS}"  # no query string
    assert "start_time" not in message


def test_401_fails_at_once_and_never_shows_the_key(api):
    wrong = "sk-admin-WRONGKEY-abcdefghijklmnop"
    sleeps: list[float] = []
    with pytest.raises(SourceError) as err:
        client(api, sleeps, key=wrong).get_json(OPENAI_COSTS, WINDOW)
    assert len(api.calls()) == 1 and sleeps == []
    message = err.value.message
    assert "HTTP 401" in message and "Incorrect API key provided" in message  # the server echoed the key...
    assert wrong not in message and "WRONGKEY" not in message  # ...and the client blanked it out
    assert api.openai_key not in message


def test_other_4xx_is_not_retried(api):
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="HTTP 400"):
        client(api, sleeps).get_json(OPENAI_COSTS, {"start_time": "x", "end_time": "y"})
    assert len(api.calls()) == 1 and sleeps == []


def test_retry_after_longer_than_allowed_fails_now(api):
    api.fail(OPENAI_COSTS, 429, times=1, retry_after="3600")
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="asked to wait 3600 s"):
        client(api, sleeps, max_retry_after_s=60).get_json(OPENAI_COSTS, WINDOW)
    assert sleeps == [] and len(api.calls()) == 1


def test_retry_after_http_date():
    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Sun, 01 Nov 2026 12:00:30 GMT", now=lambda: now) == 30.0
    assert parse_retry_after("Sun, 01 Nov 2026 11:00:00 GMT", now=lambda: now) == 0.0  # in the past
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_connection_refused_is_retried_then_reported():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    api = ApiClient(f"http://127.0.0.1:{port}", {"Authorization": "Bearer sk-secret-value-123"},
                    max_retries=2, backoff_s=1, sleep=sleeps.append, timeout_s=2)
    with pytest.raises(SourceError) as err:
        api.get_json("/v1/x", {"a": 1})
    assert sleeps == [1, 2]
    assert "no response after 3 attempts" in err.value.message and "secret" not in err.value.message


def test_paginate_follows_next_page(api):
    api.data[OPENAI_COSTS] = {
        date(2026, 11, d): [{"object": "organization.costs.result", "amount": {"value": d, "currency": "usd"},
                             "line_item": f"li{i}", "project_id": None} for i in range(3)]
        for d in (1, 2, 3)
    }
    window = {"start_time": 1793491200, "end_time": 1793491200 + 3 * 86400, "bucket_width": "1d"}
    pages = list(client(api, []).paginate(OPENAI_COSTS, window))
    # 3 days x 3 results, cut into pieces of 2 results -> 6 bucket pieces, 2 per page -> 3 pages
    assert len(pages) == 3
    assert [r.params.get("page") for r in api.calls()] == [None, ["cursor-2"], ["cursor-4"]]
    results = [res for p in pages for b in p["data"] for res in b["results"]]
    assert len(results) == 9 and sum(r["amount"]["value"] for r in results) == 3 * (1 + 2 + 3)


def test_paginate_is_bounded(api):
    api.data[OPENAI_COSTS] = {date(2026, 11, 1): [{"amount": {"value": 1, "currency": "usd"}}] * 10}
    with pytest.raises(SourceError, match="more than max_pages=2"):
        list(client(api, [], max_pages=2).paginate(OPENAI_COSTS, WINDOW))
    assert len(api.calls()) == 2


# --- GitHub's Link paging, POST bodies and keys sent other ways (the seat and coding-tool APIs) ----------------

def test_paginate_links_follows_rel_next_on_the_same_host(api):
    from tests.support.fake_seat_apis import COPILOT_SEATS, SNAPSHOT

    api.data[COPILOT_SEATS] = {SNAPSHOT: [{"assignee": {"login": f"u{i}"}} for i in range(5)]}
    github = ApiClient(api.url, {"Authorization": f"Bearer {api.github_key}"}, sleep=[].append)
    pages = list(github.paginate_links(COPILOT_SEATS, {"per_page": 100}))
    # five seats, two a page: three pages, the second and third asked for by the Link header's URL
    assert [len(p["seats"]) for p in pages] == [2, 2, 1]
    assert [r.params.get("page") for r in api.calls()] == [None, ["2"], ["3"]]
    assert all(r.params["per_page"] == ["100"] for r in api.calls())


def test_paginate_links_never_sends_the_key_to_another_host(api):
    from tests.support.fake_seat_apis import COPILOT_SEATS, SNAPSHOT

    api.data[COPILOT_SEATS] = {SNAPSHOT: [{"assignee": {"login": f"u{i}"}} for i in range(3)]}
    api.settings["link_base"] = "http://127.0.0.2:9"
    github = ApiClient(api.url, {"Authorization": f"Bearer {api.github_key}"}, sleep=[].append)
    with pytest.raises(SourceError, match="links its next page on another host; not followed"):
        list(github.paginate_links(COPILOT_SEATS))
    assert len(api.calls()) == 1


def test_keys_sent_other_ways_are_redacted_too():
    basic = ApiClient("http://127.0.0.1:9", {"Authorization": "Basic Y3Jzcl94eXo6"}, secrets=("mycursorkey-123",))
    assert basic.redact("bad key mycursorkey-123, also ghp_abcdef123456 and crsr_zzzz9999 and Y3Jzcl94eXo6") == (
        "bad key ***, also ghp_*** and crsr_*** and ***")
