#!/bin/sh
# Builds fixtures/l3/netns.pcap and fixtures/l3/netns_snap96.pcap: real Linux traffic
# between two network namespaces over a veth pair (ICMP/ICMPv6 echo, IPv4 and IPv6
# fragments, ICMP port unreachable, TCP sessions with data and resets, UDP, ND, MLD,
# IGMP), the second cut at a 96-byte snap length. Needs root, iproute2, tcpdump,
# ping, curl, nc, python3. Run once; the captures are committed as fixtures.
#   sh tests/decode/l3/make_netns_capture.sh
set -eu
OUT=$(cd "$(dirname "$0")/../../../fixtures" && pwd)/l3
mkdir -p "$OUT"
A=l3a$$
B=l3b$$
cleanup() {
  [ -n "${TD1:-}" ] && kill "$TD1" 2>/dev/null || true
  [ -n "${TD2:-}" ] && kill "$TD2" 2>/dev/null || true
  [ -n "${HTTP:-}" ] && kill "$HTTP" 2>/dev/null || true
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip link add va$$ netns "$A" type veth peer name vb$$ netns "$B"
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" link set va$$ up
# With ethtool, offloads go off and checksums in the capture are final; without it the
# packets A sends carry partial checksums ("bad" for tshark and netmon alike), as
# captures taken on a sending host do.
ip netns exec "$A" ethtool -K va$$ tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
ip netns exec "$B" ethtool -K vb$$ tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
ip netns exec "$A" tcpdump -i va$$ -U -w "$OUT/netns.pcap" >/dev/null 2>&1 &
TD1=$!
ip netns exec "$A" tcpdump -i va$$ -U -s 96 -w "$OUT/netns_snap96.pcap" >/dev/null 2>&1 &
TD2=$!
sleep 1
# Addresses come after the capture started: DAD neighbor solicitations, MLD reports.
ip -n "$A" addr add 10.77.0.1/24 dev va$$
ip -n "$B" addr add 10.77.0.2/24 dev vb$$
ip -n "$A" addr add fd77::1/64 dev va$$
ip -n "$B" addr add fd77::2/64 dev vb$$
ip -n "$B" link set vb$$ up
sleep 3
ip netns exec "$A" ping -c 2 -i 0.2 10.77.0.2 >/dev/null
ip netns exec "$A" ping -c 2 -i 0.2 fd77::2 >/dev/null
ip netns exec "$A" ping -c 1 -s 3000 10.77.0.2 >/dev/null
ip netns exec "$A" ping -c 1 -s 3000 fd77::2 >/dev/null
ip netns exec "$A" ping -c 1 -R 10.77.0.2 >/dev/null || true
ip netns exec "$A" ping -c 1 -T tsandaddr 10.77.0.2 >/dev/null || true
ip netns exec "$A" ping -c 1 -Q 0xb9 10.77.0.2 >/dev/null || true
# UDP to a closed port -> ICMP / ICMPv6 port unreachable.
ip netns exec "$A" sh -c 'echo hi | nc -u -w1 10.77.0.2 9 ; echo hi | nc -u -w1 fd77::2 9' >/dev/null 2>&1 || true
# TCP to a closed port -> RST.
ip netns exec "$A" curl -s -m 2 http://10.77.0.2:81/ >/dev/null 2>&1 || true
ip netns exec "$A" curl -s -m 2 "http://[fd77::2]:81/" >/dev/null 2>&1 || true
# TCP sessions with data (HTTP) over IPv4 and IPv6.
ip netns exec "$B" python3 -m http.server 8080 --bind :: >/dev/null 2>&1 &
HTTP=$!
sleep 1.5
ip netns exec "$A" curl -s -m 3 http://10.77.0.2:8080/ >/dev/null || true
ip netns exec "$A" curl -s -m 3 "http://[fd77::2]:8080/" >/dev/null || true
# A large UDP datagram over IPv6 and IPv4 (fragmented) to a closed port.
ip netns exec "$A" sh -c 'head -c 2500 /dev/zero | nc -u -w1 fd77::2 5000; head -c 2500 /dev/zero | nc -u -w1 10.77.0.2 5000' >/dev/null 2>&1 || true
# Multicast joins: IGMP and MLD reports.
ip netns exec "$A" ip addr add 239.1.2.3/32 dev va$$ autojoin 2>/dev/null || true
ip netns exec "$A" ip -6 addr add ff05::1234/128 dev va$$ autojoin 2>/dev/null || true
sleep 2
kill "$HTTP"
HTTP=
sleep 1
kill "$TD1" "$TD2"
wait "$TD1" "$TD2" 2>/dev/null || true
TD1=
TD2=
echo "wrote $OUT/netns.pcap and $OUT/netns_snap96.pcap"
