"""Requests Concord sends to addresses its users give it (checkpoint webhooks).

A key holder names the address, so the platform must not become their way into the
networks it can reach and they cannot (server-side request forgery): an address is used
only when every IP its host resolves to is public, unless the operator allows a private
network (CONCORD_OUTBOUND_PRIVATE_NETWORKS, e.g. "10.20.0.0/16" for an in-house receiver).
The connection goes to the very address that was checked (a second DNS answer cannot
swap it), redirects are never followed, and every request has a timeout.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(Exception):
    """The address may not be sent to: why, in words for the one who gave it."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """'10.0.0.0/8, 127.0.0.1' -> networks; ValueError naming the entry that is not one."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP network (write e.g. 10.0.0.0/8)") from None
    return tuple(networks)


def _allowed(address: Address, private_networks: Sequence[Network]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in private_networks):
        return True
    return address.is_global and not address.is_multicast


def check_literal(host: str, private_networks: Sequence[Network]) -> None:
    """Refuse at once an address written as a private IP or as localhost (a name is
    checked when it is resolved, at each delivery)."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        address: Address = ipaddress.ip_address("127.0.0.1")
    else:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return
    if not _allowed(address, private_networks):
        raise DestinationRefused(
            f"{host} is not a public address: webhooks are sent only to public addresses "
            "unless the operator allows the network (CONCORD_OUTBOUND_PRIVATE_NETWORKS)"
        )


def resolve(host: str, port: int, private_networks: Sequence[Network]) -> Address:
    """The address to connect to: the first the host resolves to, once every one of them
    is allowed (a name with one private address among public ones is refused)."""
    check_literal(host, private_networks)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise DestinationRefused(f"{host} could not be resolved ({error})") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in found]
    refused = [a for a in addresses if not _allowed(a, private_networks)]
    if refused or not addresses:
        raise DestinationRefused(
            f"{host} resolves to an address that is not public ({refused[0] if refused else '-'}):"
            " webhooks are sent only to public addresses unless the operator allows the "
            "network (CONCORD_OUTBOUND_PRIVATE_NETWORKS)"
        )
    return addresses[0]


@dataclass(frozen=True)
class Answer:
    status: int


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = str(address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = str(address)

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    private_networks: Sequence[Network] = (),
) -> Answer:
    """POST body to url (http or https), to the checked address, without following a
    redirect. DestinationRefused for an address that may not be used; OSError when it
    cannot be reached."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused("only http:// and https:// addresses with a host are used")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(parts.hostname, port, private_networks)
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = kind(parts.hostname, port, address, timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)  # the answer's body is not used; read a bounded amount
        return Answer(status=response.status)
    except http.client.HTTPException as error:
        raise OSError(f"the receiver's answer was not HTTP ({type(error).__name__})") from None
    finally:
        connection.close()
