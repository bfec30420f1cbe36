"""The CIDRs a stack lets reach a cluster's control plane (gke.authorizedNetworks, eks.publicAccessCidrs)."""

from __future__ import annotations

import ipaddress


def check_control_plane_cidrs(value: list[str], *, takes: str, endpoint: str) -> list[str]:
    """IPv4 CIDRs, each once, none of them the whole internet.

    `takes` names what takes them in the IPv6 message ("GKE authorized networks take"), `endpoint`
    what they reach ("the control plane"). 0.0.0.0/0 is refused: the endpoint would answer the
    whole internet (it still wants a credential, but every leaked one and every API server CVE is
    then one request away); list the networks that run kubectl and pulumi (a CI runner's egress
    range, an office, a VPN).
    """
    for cidr in value:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError as error:
            raise ValueError(f"'{cidr}' is not a CIDR such as 203.0.113.0/24 ({error})") from None
        if network.version != 4:
            raise ValueError(f"'{cidr}' is IPv6; {takes} IPv4 CIDRs")
        if network.prefixlen == 0:
            raise ValueError(f"'{cidr}' opens {endpoint} to the whole internet; list your own networks")
    if len(set(value)) != len(value):
        raise ValueError("lists a network twice")
    return value
