"""Cases for tests/filter/cidr_test.ts, decided by Python's ipaddress (the oracle).

For every prefix length of IPv4 (0-32) and IPv6 (0-128) and a few base addresses, the
addresses on both sides of every boundary of the network: its first and last address,
the addresses just outside it, and the addresses that differ from the base in the last
prefix bit (outside) or the first host bit (inside). Prints JSON lines
{"cidr": "...", "addr": "...", "hex": "...", "inside": true|false}: `addr` is Python's
text of the address, `hex` its bytes (the test prints them as netmon's decoders do).
"""
import ipaddress
import json
import sys

BASES = {
    4: ["172.16.5.4", "255.255.255.255", "10.129.66.201", "0.0.0.1"],
    6: ["2001:db8:85a3:8d3:1319:8a2e:370:7348", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "fe80::1", "::ffff:10.1.2.3"],
}

def around(net, base):
    bits = net.max_prefixlen
    top = (1 << bits) - 1
    b = int(base)
    cands = [int(net.network_address), int(net.broadcast_address),
             int(net.network_address) - 1, int(net.broadcast_address) + 1, b]
    p = net.prefixlen
    if p > 0:
        cands.append(b ^ (1 << (bits - p)))  # last prefix bit flipped: outside
    if p < bits:
        cands.append(b ^ (1 << (bits - p - 1)))  # first host bit flipped: inside
    return sorted({c for c in cands if 0 <= c <= top})

# A second network in the same filter (a list means any of them): the matcher reads as
# many octets as the longest prefix of the list needs, whichever comes first.
OTHERS = {4: ["203.0.113.0/25", "10.0.0.0/7"], 6: ["2001:db8:8000::/33", "fc00::/7"]}

out = sys.stdout
for version, bases in BASES.items():
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    for base_text in bases:
        base = cls(base_text)
        for p in range(base.max_prefixlen + 1):
            net = ipaddress.ip_network(f"{base}/{p}", strict=False)
            # The filter names the network with the host bits of the base left in
            # (netmon, like strict=False, clears them) and once in its canonical form.
            for cidr in (f"{base}/{p}", str(net)):
                for a in around(net, base):
                    addr = cls(a)
                    row = {"cidr": cidr, "addr": str(addr), "hex": addr.packed.hex(),
                           "inside": addr in net}
                    out.write(json.dumps(row) + "\n")
                    for i, o in enumerate(OTHERS[version]):
                        other = ipaddress.ip_network(o)
                        lst = [cidr, o] if i == 0 else [o, cidr]
                        out.write(json.dumps({**row, "cidr": lst,
                                              "inside": addr in net or addr in other}) + "\n")
