"""Outgoing requests to addresses a user chose (a page to research, a webhook receiver) may
reach only public hosts — and must connect to the address that was checked.

Checking a URL's host and then letting the HTTP client resolve it again leaves a gap: a name
with a short TTL can answer a public address to the check and ``127.0.0.1`` to the connect
(DNS rebinding). :func:`public_transport` closes it: its connections resolve the name once,
in :func:`public_addresses`, refuse it unless every address is public, and open the socket
to one of those very addresses. TLS still verifies the certificate against the host *name*
(httpcore passes the URL's host as the server name), so HTTPS keeps working unchanged.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

Resolver = Callable[..., list[tuple[Any, ...]]]


class PrivateAddress(Exception):
    """The host resolves to a private, loopback, link-local or otherwise non-public address."""

    def __init__(self, host: str, addresses: Iterable[str]) -> None:
        self.host, self.addresses = host, sorted(addresses)
        super().__init__(f"{host} is a private or local address "
                         f"({', '.join(self.addresses) or 'none'})")


def is_public(address: str) -> bool:
    """Whether one IP address is a public (global unicast) one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever the v6 flags say
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def public_addresses(host: str, port: int, resolver: Resolver = socket.getaddrinfo) -> list[str]:
    """``host``'s addresses, in the resolver's order, if every one is public; else
    :class:`PrivateAddress`. ``socket.gaierror`` (no such name) passes through."""
    infos = resolver(host, port, proto=socket.IPPROTO_TCP)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    private = [a for a in addresses if not is_public(a)]
    if private or not addresses:
        raise PrivateAddress(host, private)
    return addresses


class _PublicOnlyBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to the checked public addresses."""

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = public_addresses(host, port, self._resolver)
        except PrivateAddress as refused:
            raise httpcore.ConnectError(f"refused: {refused}") from refused
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last: Exception | None = None
        for address in addresses:  # as a browser does: the next address when one is down
            try:
                return super().connect_tcp(address, port, timeout, local_address,
                                           socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last


class _PublicOnlyTransport(httpx.HTTPTransport):
    def __init__(self, resolver: Resolver, verify: ssl.SSLContext | bool) -> None:
        # No proxy from the environment: through a proxy, the proxy resolves the name and
        # nothing here could pin it.
        super().__init__(verify=verify, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=20, max_keepalive_connections=10, keepalive_expiry=5.0,
            network_backend=_PublicOnlyBackend(resolver),
        )


def public_transport(resolver: Resolver = socket.getaddrinfo,
                     verify: ssl.SSLContext | bool = True) -> httpx.HTTPTransport:
    """An httpx transport whose every connection goes only to a public address of the URL's
    host, resolved once (a private one fails the request with ``httpx.ConnectError``)."""
    return _PublicOnlyTransport(resolver, verify)


def is_refusal(exc: BaseException) -> PrivateAddress | None:
    """The :class:`PrivateAddress` behind an httpx error raised by :func:`public_transport`."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, PrivateAddress):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
