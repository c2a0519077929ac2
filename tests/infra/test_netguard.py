"""The public-only transport: checked addresses are the ones connected to."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from assistant.infra.netguard import (
    PrivateAddress,
    is_public,
    is_refusal,
    public_addresses,
    public_transport,
)


def answers(*addresses: str) -> Any:
    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in addresses]
    return resolve


@pytest.mark.parametrize("address,public", [
    ("93.184.215.14", True), ("2606:4700::1111", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False),
    ("fe80::1%eth0", False), ("::ffff:127.0.0.1", False), ("224.0.0.1", False),
    ("fc00::1", False),
])
def test_what_counts_as_public(address: str, public: bool) -> None:
    assert is_public(address) is public


def test_one_private_answer_refuses_the_name() -> None:
    assert public_addresses("a.example", 80, answers("93.184.215.14")) == ["93.184.215.14"]
    with pytest.raises(PrivateAddress) as caught:
        public_addresses("a.example", 80, answers("93.184.215.14", "10.0.0.5"))
    assert caught.value.addresses == ["10.0.0.5"]


def test_the_transport_never_connects_to_a_private_address(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data("inside")
    client = httpx.Client(transport=public_transport(answers("127.0.0.1")))
    with client, pytest.raises(httpx.ConnectError) as caught:
        client.get(f"http://local.example:{httpserver.port}/")
    refused = is_refusal(caught.value)
    assert refused is not None and refused.host == "local.example"
    assert httpserver.log == []


def test_the_transport_connects_to_the_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """The socket is opened to the address the check saw, never by a second lookup of the
    name (which a rebinding name could answer otherwise)."""
    import httpcore

    lookups: list[str] = []
    connects: list[str] = []

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.15", port))]

    def connect_tcp(self: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        connects.append(host)
        raise httpcore.ConnectError("no network in tests")

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    client = httpx.Client(transport=public_transport(resolve), timeout=2)
    with client, pytest.raises(httpx.ConnectError):
        client.get("http://public.example/")
    assert lookups == ["public.example"]
    assert connects == ["93.184.215.14", "93.184.215.15"]  # each checked address, in order
