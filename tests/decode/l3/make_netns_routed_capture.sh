#!/bin/sh
# Builds fixtures/l3/netns_routed.pcap: real Linux traffic through a router namespace
# with a small-MTU second link and a lossy first link, captured on the client's side:
# ICMP time exceeded and ICMPv6 time exceeded (TTL/hop limit 1), ICMP fragmentation
# needed and ICMPv6 packet too big (path MTU 1280), TCP with SACK blocks and
# retransmissions (netem loss), IPv4 and IPv6 UDP fragments. Needs root, iproute2
# (with netem), tcpdump, ping, curl, python3. Run once; the capture is a fixture.
#   sh tests/decode/l3/make_netns_routed_capture.sh
set -eu
OUT=$(cd "$(dirname "$0")/../../../fixtures" && pwd)/l3
mkdir -p "$OUT"
C=l3c$$
R=l3r$$
S=l3s$$
cleanup() {
  [ -n "${TD:-}" ] && kill "$TD" 2>/dev/null || true
  [ -n "${HTTP:-}" ] && kill "$HTTP" 2>/dev/null || true
  ip netns del "$C" 2>/dev/null || true
  ip netns del "$R" 2>/dev/null || true
  ip netns del "$S" 2>/dev/null || true
}
trap cleanup EXIT
for n in "$C" "$R" "$S"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add c0 netns "$C" type veth peer name r0 netns "$R"
ip link add r1 netns "$R" type veth peer name s0 netns "$S"
ip -n "$C" addr add 10.1.0.2/24 dev c0
ip -n "$R" addr add 10.1.0.1/24 dev r0
ip -n "$R" addr add 10.2.0.1/24 dev r1
ip -n "$S" addr add 10.2.0.2/24 dev s0
ip -n "$C" addr add fd01::2/64 dev c0 nodad
ip -n "$R" addr add fd01::1/64 dev r0 nodad
ip -n "$R" addr add fd02::1/64 dev r1 nodad
ip -n "$S" addr add fd02::2/64 dev s0 nodad
ip -n "$R" link set r1 mtu 1280
ip -n "$S" link set s0 mtu 1280
for l in "$C c0" "$R r0" "$R r1" "$S s0"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$C" route add default via 10.1.0.1
ip -n "$S" route add default via 10.2.0.1
ip -n "$C" -6 route add default via fd01::1
ip -n "$S" -6 route add default via fd02::1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# Lose some server->client segments so the client sends SACK blocks.
ip netns exec "$R" tc qdisc add dev r0 root netem loss 8% 2>/dev/null || true
ip netns exec "$C" tcpdump -i c0 -U -w "$OUT/netns_routed.pcap" >/dev/null 2>&1 &
TD=$!
sleep 1.5
ip netns exec "$C" ping -c 1 -t 1 10.2.0.2 >/dev/null 2>&1 || true
ip netns exec "$C" ping -c 1 -t 1 fd02::2 >/dev/null 2>&1 || true
ip netns exec "$C" ping -c 1 -M do -s 1400 10.2.0.2 >/dev/null 2>&1 || true
ip netns exec "$C" ping -c 1 -s 1400 fd02::2 >/dev/null 2>&1 || true
ip netns exec "$C" ping -c 1 -s 1400 fd02::2 >/dev/null 2>&1 || true
ip netns exec "$C" sh -c 'head -c 3000 /dev/zero | nc -u -w1 10.2.0.2 7000; head -c 3000 /dev/zero | nc -u -w1 fd02::2 7000' >/dev/null 2>&1 || true
head -c 60000 /dev/urandom > /tmp/$S.bin
ip netns exec "$S" sh -c "cd /tmp && exec python3 -m http.server 8080 --bind ::" >/dev/null 2>&1 &
HTTP=$!
sleep 1.5
ip netns exec "$C" curl -s -m 20 "http://10.2.0.2:8080/$S.bin" -o /dev/null || true
ip netns exec "$C" curl -s -m 20 "http://[fd02::2]:8080/$S.bin" -o /dev/null || true
rm -f /tmp/$S.bin
sleep 1
kill "$HTTP"
HTTP=
kill "$TD"
wait "$TD" 2>/dev/null || true
TD=
echo "wrote $OUT/netns_routed.pcap"
