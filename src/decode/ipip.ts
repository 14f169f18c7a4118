/**
 * IP in IP: IPv4 (protocol 4) and IPv6 (protocol 41, also 6to4 and ISATAP) inside IPv4
 * or IPv6. The inner header is decoded as any IP header (a second `IPv4`/`IPv6` layer
 * gets the `_2` key) after a `Tunnel` summary naming the combination.
 */
import type { Frame } from "./frame.ts";
import { IP_PROTO, register } from "./registry.ts";
import { decodeIpv4, IP_PROTO_IPV4 } from "./ipv4.ts";
import { decodeIpv6, IP_PROTO_IPV6 } from "./ipv6.ts";
import { tunnelLayer } from "./tunnel.ts";

function ipInIp4(f: Frame, off: number, end: number): void {
  tunnelLayer(f, f.sum.ipVersion === 6 ? "4in6" : "IPIP", null);
  decodeIpv4(f, off, end);
}

function ipInIp6(f: Frame, off: number, end: number): void {
  tunnelLayer(f, f.sum.ipVersion === 6 ? "6in6" : "6in4", null);
  decodeIpv6(f, off, end);
}

register(IP_PROTO, IP_PROTO_IPV4, ipInIp4);
register(IP_PROTO, IP_PROTO_IPV6, ipInIp6);
