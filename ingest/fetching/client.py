"""The one HTTP client every feed and page fetch goes through.

Bounded by default: connect/read timeouts and a total deadline, at most ``max_redirects`` hops,
the body capped on the wire and after decompression while it streams (nothing over the cap is
ever held in memory), per-host politeness, and the address policy checked where sockets open.

Redirects are followed here rather than by httpx so that each hop passes the host gate and the
scheme check, a loop is reported as a loop, and the fetcher learns which hops were permanent.
Cookies set during one fetch's redirect chain are sent back within that chain only (sites that
set a cookie and redirect to themselves would otherwise loop), and never leak to another fetch.
"""

from __future__ import annotations

import http.cookiejar
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import httpcore
import httpx

from config import FetchSettings
from ingest.fetching.decoding import ACCEPT_ENCODING, BoundedDecoder
from ingest.fetching.errors import (
    BodyTooLargeError,
    FetchTimeout,
    HTTPStatusError,
    NetworkError,
    RedirectError,
    UnsafeURLError,
    human_size,
)
from ingest.fetching.hints import retry_after
from ingest.fetching.hosts import HostGate
from ingest.fetching.safety import HTTP_SCHEMES, AddressPolicy, GuardedBackend, RefusedAddressError
from store.models import utcnow

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})


def package_version() -> str:
    try:
        return version("newsdedup")
    except PackageNotFoundError:
        return "0"


@dataclass(frozen=True)
class Hop:
    url: str
    status: int
    location: str


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True)
class FetchedResponse:
    """A final response (2xx or 304) with its body decoded, and how we got there."""

    url: str  # the URL asked for
    final_url: str
    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    wire_bytes: int
    hops: tuple[Hop, ...] = ()

    @property
    def media_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def validators(self) -> Validators:
        return Validators(self.headers.get("etag"), self.headers.get("last-modified"))

    @property
    def permanent_url(self) -> str | None:
        """Where the leading run of permanent redirects (301/308) ends, if there was one.

        A -301-> B -302-> C gives B: B is the resource's new home, C only where it is today.
        """
        target = None
        for hop in self.hops:
            if hop.status not in PERMANENT_STATUSES:
                break
            target = hop.location
        return target


@dataclass(frozen=True)
class ClientLimits:
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    max_redirects: int
    max_body_bytes: int
    max_decompressed_bytes: int

    @classmethod
    def from_settings(cls, settings: FetchSettings) -> ClientLimits:
        for name in ("connect_timeout_seconds", "read_timeout_seconds", "total_timeout_seconds"):
            if getattr(settings, name) <= 0:
                raise ValueError(f"fetch.{name} must be positive, not {getattr(settings, name)}")
        if settings.max_redirects < 0:
            raise ValueError(f"fetch.max_redirects must not be negative, not {settings.max_redirects}")
        return cls(
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.read_timeout_seconds,
            total_timeout=settings.total_timeout_seconds,
            max_redirects=settings.max_redirects,
            max_body_bytes=settings.max_body_bytes,
            max_decompressed_bytes=settings.max_decompressed_bytes,
        )


class _RejectAllCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


def _guarded_transport(policy: AddressPolicy, max_connections: int) -> httpx.HTTPTransport:
    ssl_context = httpx.create_ssl_context(trust_env=False)
    transport = httpx.HTTPTransport(verify=ssl_context, trust_env=False, retries=1)
    # httpx has no public way to pass a network backend to its connection pool; we build the
    # pool ourselves with the same options and ours. A future httpx that drops ``_pool`` fails
    # here, loudly, rather than fetching without the address check.
    if not isinstance(getattr(transport, "_pool", None), httpcore.ConnectionPool):
        raise RuntimeError("unsupported httpx version: cannot install the address policy on its connection pool")
    transport._pool = httpcore.ConnectionPool(
        ssl_context=ssl_context,
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=5.0,
        retries=1,
        network_backend=GuardedBackend(policy),
    )
    return transport


@dataclass
class HttpClient:
    settings: FetchSettings
    gate: HostGate
    policy: AddressPolicy = field(init=False)
    limits: ClientLimits = field(init=False)
    user_agent: str = field(init=False)

    def __post_init__(self) -> None:
        self.limits = ClientLimits.from_settings(self.settings)
        self.policy = AddressPolicy.from_settings(
            self.settings.allow_private_addresses, self.settings.allowed_hosts, self.settings.allow_file_urls
        )
        self.user_agent = self.settings.resolved_user_agent(package_version())
        self._client = httpx.Client(
            transport=_guarded_transport(self.policy, max(4, self.settings.max_concurrency * 2)),
            timeout=self._timeout(self.limits.total_timeout),
            follow_redirects=False,
            trust_env=False,
            cookies=http.cookiejar.CookieJar(policy=_RejectAllCookies()),
            headers={"User-Agent": self.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )

    def close(self) -> None:
        self._client.close()

    def _timeout(self, remaining: float) -> httpx.Timeout:
        read = max(0.001, min(self.limits.read_timeout, remaining))
        return httpx.Timeout(
            connect=max(0.001, min(self.limits.connect_timeout, remaining)), read=read, write=read, pool=read
        )

    def get(self, url: str, *, accept: str = FEED_ACCEPT, validators: Validators | None = None) -> FetchedResponse:
        """GET ``url`` following redirects; a 2xx or 304 is returned, anything else raised."""
        deadline = time.monotonic() + self.limits.total_timeout
        headers = {"Accept": accept, **(validators.headers() if validators else {})}
        jar = httpx.Cookies()
        hops: list[Hop] = []
        # A request repeated with the same cookies can only end the same way: that is a loop.
        sent: set[tuple[str, str]] = set()
        current = url
        while True:
            if self.policy.check_url(current) not in HTTP_SCHEMES:
                raise UnsafeURLError(current, f"refused: {url} redirects to a non-HTTP URL")
            try:
                request = self._client.build_request(
                    "GET", current, headers=headers, timeout=self._timeout(deadline - time.monotonic())
                )
            except httpx.InvalidURL as exc:
                raise UnsafeURLError(current, f"not a valid URL: {exc}") from exc
            jar.set_cookie_header(request)
            key = (str(request.url), request.headers.get("cookie", ""))
            if key in sent:
                raise RedirectError(url, "redirect loop: " + " -> ".join([url, *(h.location for h in hops)]))
            sent.add(key)
            with self.gate.request(current):
                response = self._send(request, current)
                try:
                    jar.extract_cookies(response)
                    if response.status_code not in REDIRECT_STATUSES:
                        return self._final(url, current, response, hops, deadline)
                    hops.append(Hop(current, response.status_code, self._location(response, current)))
                finally:
                    response.close()
            if len(hops) > self.limits.max_redirects:
                chain = " -> ".join([url, *(h.location for h in hops)])
                raise RedirectError(url, f"more than {self.limits.max_redirects} redirects: {chain}")
            current = hops[-1].location

    @staticmethod
    def _location(response: httpx.Response, url: str) -> str:
        location = (response.headers.get("location") or "").strip()
        if not location:
            raise RedirectError(url, f"HTTP {response.status_code} without a Location header")
        try:
            return str(response.url.join(location).copy_with(fragment=None))
        except (httpx.InvalidURL, ValueError) as exc:
            raise RedirectError(url, f"bad redirect Location {location!r}: {exc}") from exc

    def _final(
        self, url: str, current: str, response: httpx.Response, hops: list[Hop], deadline: float
    ) -> FetchedResponse:
        if response.status_code >= 400 or response.status_code < 200:
            hint = retry_after(response.headers.get("retry-after"), utcnow())
            raise HTTPStatusError(current, response.status_code, response.reason_phrase, hint)
        body, wire = self._read(response, current, deadline) if response.status_code != 304 else (b"", 0)
        return FetchedResponse(
            url=url,
            final_url=current,
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=body,
            wire_bytes=wire,
            hops=tuple(hops),
        )

    def _send(self, request: httpx.Request, url: str) -> httpx.Response:
        try:
            return self._client.send(request, stream=True)
        except RefusedAddressError as exc:
            raise UnsafeURLError(url, str(exc)) from exc
        except httpx.ConnectTimeout as exc:
            raise FetchTimeout(url, f"connect timeout after {self.limits.connect_timeout:g} s") from exc
        except httpx.TimeoutException as exc:
            raise FetchTimeout(url, f"no response within {self.limits.read_timeout:g} s (read timeout)") from exc
        except httpx.TransportError as exc:
            raise NetworkError(url, f"{type(exc).__name__}: {exc or 'connection failed'}") from exc
        except httpx.InvalidURL as exc:
            raise UnsafeURLError(url, f"not a valid URL: {exc}") from exc

    def _read(self, response: httpx.Response, url: str, deadline: float) -> tuple[bytes, int]:
        """The decoded body, refused as soon as it passes either cap or the total deadline."""
        limits = self.limits
        declared = (response.headers.get("content-length") or "").strip()
        if declared.isdigit() and int(declared) > limits.max_body_bytes:
            raise BodyTooLargeError(
                url, f"body of {human_size(int(declared))} declared, over the {human_size(limits.max_body_bytes)} cap"
            )
        decoder = BoundedDecoder(response.headers.get("content-encoding"), limits.max_decompressed_bytes, url)
        parts: list[bytes] = []
        wire = 0
        try:
            for chunk in response.iter_raw():
                wire += len(chunk)
                if wire > limits.max_body_bytes:
                    raise BodyTooLargeError(url, f"body larger than {human_size(limits.max_body_bytes)}")
                if time.monotonic() > deadline:
                    raise FetchTimeout(url, f"body not received within {limits.total_timeout:g} s (total timeout)")
                parts.append(decoder.feed(chunk))
        except httpx.TimeoutException as exc:
            raise FetchTimeout(url, f"body stalled for {limits.read_timeout:g} s (read timeout)") from exc
        except httpx.TransportError as exc:
            raise NetworkError(url, f"connection broke while reading the body: {type(exc).__name__}: {exc}") from exc
        parts.append(decoder.finish())
        return b"".join(parts), wire
