"""HTTPS to Microsoft's APIs: client-credentials tokens, service-protection throttling, transient retries.

A direct token POST (rather than MSAL) keeps everything on one aiohttp session and event loop, and
lets tests point the authority at a local server without MSAL's instance discovery.
"""
from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import orjson
from yarl import URL

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 300.0
TOKEN_REFRESH_MARGIN_S = 300.0


class HttpError(Exception):
    """A response the connector cannot use: status, the request path (no query: it may hold tokens)."""

    def __init__(self, status: int | None, url: str, detail: str):
        self.status = status
        self.path = urlsplit(url).path
        super().__init__(f"HTTP {status or 'error'} from {self.path}: {detail}")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter; `Retry-After` from the service wins when present."""

    attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 30.0

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """System trust plus RELSTREAM_CA_BUNDLE (corporate TLS proxies, test servers)."""
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


def new_session(ca_bundle: str | None) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(ssl=ssl_context(ca_bundle), limit=8)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120, sock_connect=15))


def with_query(base: str, params: dict[str, str]) -> str:
    """`base?params`, percent-encoded once (links from the services are sent exactly as received)."""
    return base + "?" + urlencode(params, quote_via=quote, safe="$,'()=:*")


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


async def send(
    session: aiohttp.ClientSession, policy: RetryPolicy, method: str, url: str, **kwargs: Any
) -> tuple[int, bytes]:
    """One request, retried on throttling, 5xx and network errors; any other status is returned."""
    for attempt in range(policy.attempts):
        try:
            async with session.request(method, URL(url, encoded=True), **kwargs) as response:
                body = await response.read()
                if response.status not in RETRY_STATUSES:
                    return response.status, body
                delay = retry_after_seconds(response.headers.get("Retry-After"))
                reason = f"HTTP {response.status}"
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError) as exc:
            delay, reason = None, type(exc).__name__
        if attempt + 1 == policy.attempts:
            break
        delay = policy.backoff(attempt) if delay is None else delay
        log.warning("%s %s: %s, retrying in %.1f s", method, urlsplit(url).path, reason, delay)
        await asyncio.sleep(delay)
    raise HttpError(None, url, f"gave up after {policy.attempts} attempts ({reason})")


class TokenSource:
    """OAuth2 client credentials at `{authority}/{tenant}/oauth2/v2.0/token`, cached until near expiry."""

    def __init__(self, session: aiohttp.ClientSession, policy: RetryPolicy, authority: str, tenant: str,
                 client_id: str, client_secret: str, scope: str):
        self._session, self._policy = session, policy
        self._url = f"{authority}/{tenant}/oauth2/v2.0/token"
        self._form = {"grant_type": "client_credentials", "client_id": client_id,
                      "client_secret": client_secret, "scope": scope}
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                await self._fetch()
            return self._token

    def invalidate(self) -> None:
        self._token = None

    async def _fetch(self) -> None:
        status, body = await send(self._session, self._policy, "POST", self._url, data=self._form)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = {}
        if status != 200 or "access_token" not in payload:
            detail = payload.get("error_description") or payload.get("error") or "no access_token"
            raise HttpError(status, self._url, f"token request failed: {str(detail)[:300]}")
        lifetime = float(payload.get("expires_in", 3600))
        self._token = payload["access_token"]
        self._expires_at = time.monotonic() + max(lifetime - TOKEN_REFRESH_MARGIN_S, lifetime / 2)
        log.info("token acquired for %s (valid %.0f s)", self._form["scope"], lifetime)


class ApiClient:
    """GET JSON with a bearer token; a 401 (token revoked or expired early) refreshes it once and retries."""

    def __init__(self, session: aiohttp.ClientSession, tokens: TokenSource, policy: RetryPolicy,
                 headers: dict[str, str]):
        self._session, self._tokens, self._policy, self._headers = session, tokens, policy, headers

    async def get_json(self, url: str, headers: dict[str, str] | None = None) -> dict:
        for refreshed in (False, True):
            token = await self._tokens.token()
            all_headers = {**self._headers, **(headers or {}), "Authorization": f"Bearer {token}"}
            status, body = await send(self._session, self._policy, "GET", url, headers=all_headers)
            if status == 401 and not refreshed:
                log.info("401 from %s: refreshing the token once", urlsplit(url).path)
                self._tokens.invalidate()
                continue
            break
        if status != 200:
            raise HttpError(status, url, body[:300].decode("utf-8", "replace"))
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise HttpError(status, url, f"response is not JSON ({exc})") from None
