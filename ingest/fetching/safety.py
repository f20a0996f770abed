"""Which URLs and addresses newsdedup may fetch.

Only http(s) and file URLs. A host that resolves to a loopback, private, link-local or otherwise
non-public address is refused unless the settings allow it (``allow_private_addresses``, or the
host, address or network in ``allowed_hosts``).

The check runs where the socket is opened (``GuardedBackend.connect_tcp``), on the addresses the
connection then uses. Checking a name first and letting the HTTP library resolve it again would
let a DNS answer that changes between the two lookups (DNS rebinding) reach an internal address;
checking at connect time also covers every redirect hop and every pooled connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore

from ingest.fetching.errors import UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

HTTP_SCHEMES = ("http", "https")


class RefusedAddressError(Exception):
    """Raised inside the connection pool; the client turns it into ``UnsafeURLError`` with the URL."""


def address_problem(address: IPAddress) -> str | None:
    """Why an address is not a public one ("loopback", "private", ...), or None when it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not public"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allowed_names: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()
    allow_file_urls: bool = True

    @classmethod
    def from_settings(
        cls, allow_private: bool, allowed_hosts: Iterable[str], allow_file_urls: bool = True
    ) -> AddressPolicy:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in allowed_hosts:
            text = entry.strip().lower().strip("[]")
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                names.add(text.rstrip("."))
        return cls(allow_private, frozenset(names), tuple(networks), allow_file_urls)

    def allows_address(self, address: IPAddress) -> bool:
        if self.allow_private or address_problem(address) is None:
            return True
        return any(address in network for network in self.allowed_networks)

    def check_url(self, url: str) -> str:
        """The URL's scheme, after refusing schemes and literal addresses we never fetch."""
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise UnsafeURLError(url, f"not a valid URL: {exc}") from exc
        scheme = parts.scheme.lower()
        if scheme == "file":
            if not self.allow_file_urls:
                raise UnsafeURLError(url, "file URLs are disabled (fetch.allow_file_urls = false)")
            return scheme
        if scheme not in HTTP_SCHEMES:
            shown = scheme or "no scheme"
            raise UnsafeURLError(url, f"only http, https and file URLs are fetched, not {shown}")
        try:
            host = parts.hostname
        except ValueError as exc:
            raise UnsafeURLError(url, f"bad host: {exc}") from exc
        if not host:
            raise UnsafeURLError(url, "URL has no host")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return scheme
        if host.lower() not in self.allowed_names and not self.allows_address(literal):
            raise UnsafeURLError(url, self._refusal(host, [(literal, address_problem(literal))]))
        return scheme

    def vet(self, host: str, addresses: Iterable[str]) -> list[str]:
        """The addresses we may connect to, in resolver order; refuse when none is left."""
        if self.allow_private or host.lower().rstrip(".") in self.allowed_names:
            return list(addresses)
        allowed: list[str] = []
        refused: list[tuple[IPAddress, str | None]] = []
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if self.allows_address(address):
                allowed.append(text)
            else:
                refused.append((address, address_problem(address)))
        if not allowed:
            raise RefusedAddressError(self._refusal(host, refused))
        return allowed

    @staticmethod
    def _refusal(host: str, refused: list[tuple[IPAddress, str | None]]) -> str:
        shown = ", ".join(f"{address} ({problem})" for address, problem in refused[:4])
        return (
            f"refused: {host} resolves to {shown}; private, loopback and link-local addresses are "
            "fetched only when fetch.allowed_hosts or fetch.allow_private_addresses allows them"
        )


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself, keeps only addresses the policy allows and connects to those."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self.policy.vet(host, resolve(host, port))
        last_error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error
