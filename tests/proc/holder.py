"""Holds a known set of sockets for netmon proc tests, then waits (bounded).

Run inside a fresh network namespace (lo up). Prints one JSON line describing the
ports it used, then "READY", and exits when stdin closes or after 120 seconds.
Only loopback addresses are used, so no traffic leaves the namespace.
"""
import json
import select
import socket
import sys
import time

keep = []


def tcp_pair(family, listen_addr, connect_addr):
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.bind((listen_addr, 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    conns = []
    for fam, addr in connect_addr:
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.connect((addr, port))
        a, _ = srv.accept()
        conns += [c, a]
    keep.extend([srv] + conns)
    return port


# IPv4 listener with one connected pair.
p4 = tcp_pair(socket.AF_INET, "127.0.0.1", [(socket.AF_INET, "127.0.0.1")])
# Dual-stack IPv6 listener: an IPv6 client over ::1 and an IPv4 client whose accepted
# socket shows up in tcp6 as an IPv4-mapped address (::ffff:127.0.0.1).
p6 = tcp_pair(socket.AF_INET6, "::", [(socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")])

# A TIME_WAIT row: the client closes first, the accepted side closes too.
tw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tw.bind(("127.0.0.1", 0))
tw.listen(1)
twc = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
twc.connect(tw.getsockname())
twa, _ = tw.accept()
twc.close()
twa.close()
tw.close()

# UDP: bound IPv4, connected IPv4, bound IPv6, dual-stack IPv6 connected to a mapped address.
u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u4.bind(("127.0.0.1", 0))
u4c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u4c.connect(u4.getsockname())
u4c.send(b"x")
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u6.bind(("::1", 0))
u6m = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u6m.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
u6m.connect(("::ffff:127.0.0.1", u4.getsockname()[1]))
keep += [u4, u4c, u6, u6m]

# Raw ICMP sockets and, when allowed, ping sockets.
for fam, proto in ((socket.AF_INET, socket.IPPROTO_ICMP), (socket.AF_INET6, socket.IPPROTO_ICMPV6)):
    try:
        keep.append(socket.socket(fam, socket.SOCK_RAW, proto))
    except OSError:
        pass
    try:
        ping = socket.socket(fam, socket.SOCK_DGRAM, proto)
        ping.bind(("127.0.0.1" if fam == socket.AF_INET else "::1", 0))  # listed once bound
        keep.append(ping)
    except OSError:
        pass

print(json.dumps({"tcp4": p4, "tcp6": p6, "udp4": u4.getsockname()[1], "udp6": u6.getsockname()[1]}))
print("READY", flush=True)
deadline = time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 120)
while time.monotonic() < deadline:
    r, _, _ = select.select([sys.stdin], [], [], 1.0)
    if r and not sys.stdin.read(1):
        break
