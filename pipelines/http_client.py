"""A small JSON-over-HTTP client for provider admin APIs: bounded retries, Retry-After, cursor paging.

Why its own module: provider cost and usage APIs rate-limit hard (429 with Retry-After) and fail transiently
(5xx, dropped connections), and a nightly run must ride that out without hammering the provider or waiting
forever. Every failure it cannot ride out becomes a `SourceError`, so ingest quarantines exactly the API day
that failed and the run says why.

Secrets: the key travels only in a header. Errors name the URL without its query string, the HTTP status and
the provider's own message, with every header value (and anything shaped like an API key) blanked out,
because some providers echo part of a rejected key back in their error text.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import requests

from pipelines.errors import SourceError, TransientError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 522, 524, 529})  # 529: Anthropic "overloaded"
# Tokens that look like provider keys (OpenAI sk-..., sk-proj-..., sk-admin-..., Anthropic sk-ant-..., GitHub
# ghp_/gho_/ghs_/ghu_/github_pat_..., Cursor crsr_...).
_KEY_SHAPED = re.compile(r"\b(sk-|gh[opsu]_|github_pat_|crsr_)[A-Za-z0-9_\-*.]{4,}")
_MESSAGE_LIMIT = 300


class ApiClient:
    """GET (or POST) JSON from one API host with bounded retries; `paginate` follows `has_more` / `next_page`,
    `paginate_links` GitHub's `Link: <...>; rel="next"` headers.

    Attempts per request are 1 + max_retries. A wait is the server's Retry-After (seconds or an HTTP date)
    when it sends one, else backoff_s * 2**n capped at max_backoff_s. A Retry-After longer than
    max_retry_after_s is not slept through: the request fails now and the next run tries again.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30,
        timeout_s: float = 60,
        max_retry_after_s: float = 300,
        max_pages: int = 1000,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s
        self.max_retry_after_s = max_retry_after_s
        self.max_pages = max_pages
        self.sleep = sleep
        self.session = session or requests.Session()
        self.session.headers.update(headers)
        # Header values and their credential part ("Bearer x", "Basic x"), and keys sent another way (basic auth
        # sends only their base64): never in an error.
        parts = [v.split(" ", 1)[1] for v in headers.values() if " " in v]
        self._secrets = [v for v in (*headers.values(), *parts, *secrets) if v and len(v) >= 4]

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        """The URL errors may name: no query string (nothing secret is in it, but nothing is needed either)."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict:
        return self._json(self.url(path), self.request(path, params))

    def post_json(self, path: str, body: Mapping[str, Any]) -> dict:
        """POST a JSON body (Cursor's reports take their window and page that way); retried like a GET: these
        reports only read."""
        return self._json(self.url(path), self.request(path, None, body))

    def request(self, path: str, params: Mapping[str, Any] | None = None, body: Mapping[str, Any] | None = None,
                url: str | None = None) -> requests.Response:
        """One successful response (status < 400), after the retries; `url` overrides the path (a next link)."""
        url = url or self.url(path)
        where = url.split("?", 1)[0]  # errors name no query string
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            last_try = attempt == attempts - 1
            try:
                if body is None:
                    response = self.session.get(url, params=params, timeout=self.timeout_s)
                else:
                    response = self.session.post(url, json=dict(body), timeout=self.timeout_s)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last_try:
                    raise TransientError(where, f"no response after {attempts} attempts ({type(exc).__name__})") from None
                self.sleep(self._backoff(attempt))
                continue
            if response.status_code < 400:
                return response
            if response.status_code not in RETRY_STATUSES:
                raise SourceError(where, self._describe(response))
            if last_try:
                raise TransientError(where, f"{self._describe(response)} (gave up after {attempts} attempts)")
            wait = self._retry_after(response)
            if wait is None:
                wait = self._backoff(attempt)
            elif wait > self.max_retry_after_s:
                raise SourceError(
                    where, f"{self._describe(response)}; the provider asked to wait {wait:.0f} s, "
                    f"more than max_retry_after_s={self.max_retry_after_s:.0f}"
                )
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        """Each page in order, following `next_page` as `page=` while `has_more` says so, at most max_pages."""
        params = dict(params or {})
        seen: set[str] = set()
        for number in range(1, self.max_pages + 1):
            page = self.get_json(path, params)
            yield page
            if not page.get("has_more"):
                return
            cursor = page.get("next_page")
            if not isinstance(cursor, str) or not cursor:
                raise SourceError(self.url(path), f"page {number} says has_more but gives no next_page cursor")
            if cursor in seen:
                raise SourceError(self.url(path), f"page {number} repeats an earlier next_page cursor (paging loop)")
            seen.add(cursor)
            params["page"] = cursor
        raise SourceError(self.url(path), f"more than max_pages={self.max_pages} pages; stopped")

    def paginate_links(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        """Each page in order, following the `Link` header's rel="next" URL (GitHub), at most max_pages.

        A next link to another host is refused: the key travels in the session's headers and must only ever
        go to the configured API host.
        """
        first = self.url(path)
        url, query = first, dict(params or {})
        seen: set[str] = set()
        for number in range(1, self.max_pages + 1):
            response = self.request(path, query, url=url)
            yield self._json(first, response)
            following = (response.links.get("next") or {}).get("url")
            if not following:
                return
            if urlsplit(following)[:2] != urlsplit(self.base_url)[:2]:
                raise SourceError(first, f"page {number} links its next page on another host; not followed")
            if following in seen:
                raise SourceError(first, f"page {number} repeats an earlier next link (paging loop)")
            seen.add(following)
            url, query = following, None  # the link carries the whole query
        raise SourceError(first, f"more than max_pages={self.max_pages} pages; stopped")

    def _backoff(self, attempt: int) -> float:
        return min(self.max_backoff_s, self.backoff_s * (2**attempt))

    def _retry_after(self, response: requests.Response) -> float | None:
        return parse_retry_after(response.headers.get("Retry-After"))

    def _json(self, url: str, response: requests.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            raise SourceError(url, f"HTTP {response.status_code}: the response is not JSON") from None
        if not isinstance(body, dict):
            raise SourceError(url, f"HTTP {response.status_code}: expected a JSON object, got {type(body).__name__}")
        return body

    def _describe(self, response: requests.Response) -> str:
        message = provider_message(response)
        status = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
        return f"{status}: {self.redact(message)}" if message else status

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _KEY_SHAPED.sub(lambda m: m.group(1) + "***", text)


def parse_retry_after(value: str | None, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (a past date means 0)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now()).total_seconds())


def provider_message(response: requests.Response) -> str:
    """The provider's error text: OpenAI and Anthropic both send {"error": {"message": ...}}."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("type")
        elif isinstance(error, str):
            message = error
        message = message or body.get("message")
    if not isinstance(message, str):
        message = response.text if response.text and "<html" not in response.text[:200].lower() else ""
    message = " ".join(message.split())
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 3] + "..."
