"""Where a webhook may go and how a POST gets there.

Only global (public internet) addresses, including any IPv4 address wrapped in an IPv6 one
(IPv4-mapped, 6to4, Teredo). The host is resolved once per send and the connection is opened to
that very address, so a name cannot answer the check with a public address and the connection
with an internal one (DNS rebinding). The Host header, the TLS server name (SNI) and certificate
verification keep the name from the URL. Redirects are never followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not global whatever the Python version says (3.11 before 3.11.10 calls 192.0.0.0/24 global):
# shared address space (100.100.100.200 is a cloud metadata address), IETF protocol assignments
# (192.0.0.192 is another), the deprecated 6to4 relay anycast and IPv6 site-local addresses.
NOT_GLOBAL = tuple(
    ipaddress.ip_network(network)
    for network in ("100.64.0.0/10", "192.0.0.0/24", "192.88.99.0/24", "fec0::/10")
)

# The one resolver: each check and each send calls it once. Tests replace it.
resolver = socket.getaddrinfo


class AddressRefused(ValueError):
    """Not an http(s) URL, or its host is (or resolves to) an address webhooks may not go to."""


class NotAnswered(OSError):
    """The partner answered, but not with a 2xx (a redirect included: it is not followed)."""


@dataclass(frozen=True)
class Target:
    """A URL's parts, and the addresses its host resolved to (each already checked)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[tuple, ...]  # (family, sockaddr) from getaddrinfo


def is_public(ip: IPAddress) -> bool:
    """A global unicast address (an IPv4 address wrapped in IPv6 must be one too)."""
    return all(_is_public_alone(inner) for inner in _with_wrapped(ip))


def _is_public_alone(ip: IPAddress) -> bool:
    if not ip.is_global or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return False
    if ip.is_private or ip.is_loopback or ip.is_link_local:
        return False
    return not any(ip in network for network in NOT_GLOBAL if network.version == ip.version)


def _with_wrapped(ip: IPAddress) -> list[IPAddress]:
    """The address and any IPv4 address inside it (IPv4-mapped, 6to4, Teredo's server and client)."""
    found = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour:
            found.append(ip.sixtofour)
        if ip.teredo:
            found.extend(ip.teredo)
    return found


def refusal(host: str, ip: IPAddress, *, literal: bool = False) -> str | None:
    """Why ``ip`` (what ``host`` resolved to, or ``host`` itself when ``literal``) is refused,
    naming it; None when it is public."""
    if is_public(ip):
        return None
    wrapped = [inner for inner in _with_wrapped(ip)[1:] if not _is_public_alone(inner)]
    named = host if literal else f"{host} resolves to {ip}, which"
    carries = f" carries {wrapped[0]} and" if wrapped else ""
    return (
        f"{named}{carries} is not a public internet address (it is private, local or reserved); "
        "webhooks go only to public addresses."
    )


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL; ValueError, with a message for
    the form, when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Enter a web address that starts with https:// or http://.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValueError("Enter a web address whose port is a number from 1 to 65535.") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def resolve(url: str, *, allow_private: bool = False) -> Target:
    """Resolve the URL's host once and check every address it gave.

    Raises AddressRefused when any is not public (unless ``allow_private``, for tests), and
    socket.gaierror when the name cannot be resolved."""
    try:
        scheme, host, port, path = parse(url)
    except ValueError as error:
        raise AddressRefused(str(error)) from None
    literal = _literal(host)
    if literal is not None:  # an address in the URL: nothing to look up
        family = socket.AF_INET if literal.version == 4 else socket.AF_INET6
        sockaddr = (str(literal), port) if literal.version == 4 else (str(literal), port, 0, 0)
        infos = [(family, socket.SOCK_STREAM, 0, "", sockaddr)]
    else:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        reason = None if allow_private else refusal(host, ip, literal=literal is not None)
        if reason:
            raise AddressRefused(reason)
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise socket.gaierror(f"{host} has no IPv4 or IPv6 address")
    return Target(scheme, host, port, path, tuple(addresses))


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's authorities and the URL's host name."""
    return ssl.create_default_context()


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool = False
) -> int:
    """POST ``body`` to the address ``url``'s host resolves to now; the 2xx status, or NotAnswered.

    Raises AddressRefused, socket.gaierror or another OSError (refused, timed out, bad TLS)."""
    target = resolve(url, allow_private=allow_private)
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, timeout, tls_context())
    else:
        connection = _PinnedHTTPConnection(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # a short answer is read so the partner sees it taken
        if not 200 <= response.status < 300:
            where = response.getheader("Location")
            raise NotAnswered(
                f"HTTP {response.status} {response.reason}: not a 2xx answer"
                + (f" (a redirect to {where[:200]}, not followed)" if where else "")
            )
        return response.status
    finally:
        connection.close()


def _connect(target: Target, timeout: float) -> socket.socket:
    """A TCP connection to the first of the checked addresses that answers; no lookup here."""
    error: OSError | None = None
    for family, sockaddr in target.addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except OSError as failed:
            sock.close()
            error = failed
    raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """http.client with the host kept for the Host header and the connection made to a checked
    address: http.client itself would resolve the name again."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target

    def connect(self) -> None:
        self.sock = _connect(self.target, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS: the server name (SNI) and the certificate check use the URL's host."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext):
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self.target = target
        self.context = context

    def connect(self) -> None:
        sock = _connect(self.target, self.timeout)
        try:
            self.sock = self.context.wrap_socket(sock, server_hostname=self.target.host)
        except BaseException:
            sock.close()
            raise
