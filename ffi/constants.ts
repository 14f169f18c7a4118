/**
 * Linux constants for AF_PACKET capture (x86_64 / aarch64 values; the same on every
 * 64-bit Linux architecture Deno supports). Sources: linux/socket.h, linux/if_packet.h,
 * linux/if_ether.h, asm-generic/socket.h, asm-generic/mman-common.h, poll.h, errno.h.
 */

// socket(2)
export const AF_PACKET = 17;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
/** All protocols, in host order; pass `htons(ETH_P_ALL)` to the kernel. */
export const ETH_P_ALL = 0x0003;

// Socket option levels
export const SOL_SOCKET = 1;
export const SOL_PACKET = 263;

// SOL_SOCKET options
export const SO_ERROR = 4;
export const SO_RCVBUF = 8;
export const SO_ATTACH_FILTER = 26;
export const SO_TIMESTAMPNS = 35;
export const SCM_TIMESTAMPNS = SO_TIMESTAMPNS;
export const SO_RCVBUFFORCE = 33;

// SOL_PACKET options
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_AUXDATA = 8;
export const PACKET_VERSION = 10;
/** Headroom the kernel leaves before each ring frame (libpcap reserves room for a VLAN tag). */
export const PACKET_RESERVE = 12;
export const PACKET_IGNORE_OUTGOING = 23;

/** packet_mreq.mr_type */
export const PACKET_MR_PROMISC = 1;

/** PACKET_VERSION values */
export const TPACKET_V3 = 2;

/** Packet types (sockaddr_ll.sll_pkttype). */
export const PACKET_HOST = 0;
export const PACKET_OUTGOING = 4;

// tpacket block / frame status bits
export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1 << 0;
export const TP_STATUS_COPY = 1 << 1;
export const TP_STATUS_LOSING = 1 << 2;
export const TP_STATUS_CSUMNOTREADY = 1 << 3;
export const TP_STATUS_VLAN_VALID = 1 << 4;
export const TP_STATUS_BLK_TMO = 1 << 5;
export const TP_STATUS_VLAN_TPID_VALID = 1 << 6;

// mmap(2)
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_FIXED = 0x10;
export const PROT_EXEC = 4;
export const MFD_CLOEXEC = 1;

// poll(2)
export const POLLIN = 0x001;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;

// recvmmsg(2) flags
export const MSG_DONTWAIT = 0x40;
export const MSG_TRUNC = 0x20;

// errno values netmon reacts to
export const EPERM = 1;
export const ENXIO = 6;
export const EINTR = 4;
export const ENOMEM = 12;
export const EACCES = 13;
export const EINVAL = 22;
export const EAGAIN = 11;
export const ENODEV = 19;
export const ENOPROTOOPT = 92;
export const ENETDOWN = 100;

/** ARPHRD_* (/sys/class/net/X/type) that carry Ethernet headers in SOCK_RAW frames. */
export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;

/** Classic BPF: `BPF_RET | BPF_K` (return the constant k = bytes to keep). */
export const BPF_RET_K = 0x06;
