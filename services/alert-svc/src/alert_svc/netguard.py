"""SSRF guard for webhook URLs: resolve the host ourselves and refuse addresses that are not
public (loopback only when configured); the sender then connects to the checked address."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

__all__ = ["UnsafeTargetError", "resolve_safe"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud metadata endpoints (most are link-local already; listed so intent is explicit).
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class UnsafeTargetError(ValueError):
    """The URL's host is unresolvable or resolves to an address we refuse to call."""


def _refused(address: IPAddress, *, allow_loopback: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return not allow_loopback
    return (
        address in _METADATA
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


async def resolve_safe(host: str, port: int, *, allow_loopback: bool) -> str:
    """The address to connect to for `host`; UnsafeTargetError when any address it resolves
    to is refused (a name pointing at both a public and a private address is refused)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except OSError as exc:
        raise UnsafeTargetError(f"{host} does not resolve") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise UnsafeTargetError(f"{host} does not resolve")
    for address in addresses:
        if _refused(address, allow_loopback=allow_loopback):
            raise UnsafeTargetError(f"{host} resolves to a refused address ({address})")
    return str(addresses[0])
