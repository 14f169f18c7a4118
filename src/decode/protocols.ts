/**
 * Imports every protocol file so that each registers itself in registry.ts.
 * Adding a protocol: write src/decode/<proto>.ts with its `register(...)` calls, add one import here.
 */
import "./vlan.ts";
import "./ipv4.ts";
import "./ipv6.ts";
import "./icmp.ts";
import "./igmp.ts";
import "./tcp.ts";
import "./udp.ts";
import "./sctp.ts";
import "./icmpv6.ts";
import "./arp.ts";
import "./stp.ts";
import "./cdp.ts";
import "./lldp.ts";
