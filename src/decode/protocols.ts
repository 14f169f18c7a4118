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
import "./ipip.ts";
import "./gre.ts";
import "./erspan.ts";
import "./mpls.ts";
import "./vxlan.ts";
import "./geneve.ts";
import "./teredo.ts";
import "./gtp.ts";
import "./l2tp.ts";
import "./ppp.ts";
import "./pppoe.ts";
import "./nsh.ts";
import "./macsec.ts";
import "./pim.ts";
import "./arista.ts";
