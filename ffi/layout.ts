/**
 * Byte layouts of the kernel and libc structures netmon reads or writes, for 64-bit
 * Linux (LP64). Each table gives field offsets and the struct size; nothing else in
 * ffi/ or src/capture/ repeats these numbers. All fields are host (little) endian
 * except where noted.
 */

/** struct tpacket_req3 (linux/if_packet.h), argument of PACKET_RX_RING with TPACKET_V3. */
export const TPACKET_REQ3 = {
  BLOCK_SIZE: 0,
  BLOCK_NR: 4,
  FRAME_SIZE: 8,
  FRAME_NR: 12,
  RETIRE_BLK_TOV: 16,
  SIZEOF_PRIV: 20,
  FEATURE_REQ_WORD: 24,
  SIZE: 28,
} as const;

/**
 * struct tpacket_block_desc: `version`, `offset_to_priv`, then struct tpacket_hdr_v1
 * (block_status, num_pkts, offset_to_first_pkt, blk_len, u64 seq_num, two tpacket_bd_ts).
 */
export const BLOCK_DESC = {
  VERSION: 0,
  OFFSET_TO_PRIV: 4,
  BLOCK_STATUS: 8,
  NUM_PKTS: 12,
  OFFSET_TO_FIRST_PKT: 16,
  BLK_LEN: 20,
  SEQ_NUM: 24,
  SIZE: 48,
} as const;

/** struct tpacket3_hdr; the union member is tpacket_hdr_variant1 (rxhash, vlan tci, tpid). */
export const TPACKET3_HDR = {
  NEXT_OFFSET: 0,
  SEC: 4,
  NSEC: 8,
  SNAPLEN: 12,
  LEN: 16,
  STATUS: 20,
  MAC: 24,
  NET: 26,
  RXHASH: 28,
  VLAN_TCI: 32,
  VLAN_TPID: 36,
  SIZE: 48,
} as const;

/** TPACKET_ALIGNMENT: frames and the sockaddr_ll after each tpacket3_hdr are 16-aligned. */
export const TPACKET_ALIGNMENT = 16;
export const tpacketAlign = (n: number): number =>
  (n + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);

/**
 * struct sockaddr_ll. In the ring it sits at TPACKET_ALIGN(sizeof(tpacket3_hdr)) after
 * each frame header. `PROTOCOL` is network (big) endian.
 */
export const SOCKADDR_LL = {
  FAMILY: 0,
  PROTOCOL: 2,
  IFINDEX: 4,
  HATYPE: 8,
  PKTTYPE: 10,
  HALEN: 11,
  ADDR: 12,
  SIZE: 20,
} as const;

/** Offset of the sockaddr_ll after a tpacket3_hdr. */
export const RING_SLL_OFFSET = tpacketAlign(TPACKET3_HDR.SIZE);

/** struct packet_mreq (PACKET_ADD_MEMBERSHIP). */
export const PACKET_MREQ = { IFINDEX: 0, TYPE: 4, ALEN: 6, ADDRESS: 8, SIZE: 16 } as const;

/** struct tpacket_stats_v3 (PACKET_STATISTICS on a TPACKET_V3 socket). */
export const TPACKET_STATS_V3 = { PACKETS: 0, DROPS: 4, FREEZE_Q_CNT: 8, SIZE: 12 } as const;

/** struct sock_fprog: u16 len, padding, pointer to struct sock_filter[]. */
export const SOCK_FPROG = { LEN: 0, FILTER: 8, SIZE: 16 } as const;

/** struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. */
export const SOCK_FILTER = { CODE: 0, JT: 2, JF: 3, K: 4, SIZE: 8 } as const;

/** struct pollfd. */
export const POLLFD = { FD: 0, EVENTS: 4, REVENTS: 6, SIZE: 8 } as const;

/** struct iovec. */
export const IOVEC = { BASE: 0, LEN: 8, SIZE: 16 } as const;

/** struct msghdr. */
export const MSGHDR = {
  NAME: 0,
  NAMELEN: 8,
  IOV: 16,
  IOVLEN: 24,
  CONTROL: 32,
  CONTROLLEN: 40,
  FLAGS: 48,
  SIZE: 56,
} as const;

/** struct mmsghdr: a msghdr plus the received length. */
export const MMSGHDR = { HDR: 0, LEN: 56, SIZE: 64 } as const;

/** struct cmsghdr: size_t len, int level, int type, then data (CMSG_ALIGN 8). */
export const CMSGHDR = { LEN: 0, LEVEL: 8, TYPE: 12, DATA: 16 } as const;
export const cmsgAlign = (n: number): number => (n + 7) & ~7;

/** struct tpacket_auxdata (PACKET_AUXDATA control message). */
export const TPACKET_AUXDATA = {
  STATUS: 0,
  LEN: 4,
  SNAPLEN: 8,
  MAC: 12,
  NET: 14,
  VLAN_TCI: 16,
  VLAN_TPID: 18,
  SIZE: 20,
} as const;

/** struct timespec. */
export const TIMESPEC = { SEC: 0, NSEC: 8, SIZE: 16 } as const;

/** struct passwd (glibc): pointers to strings, then uid and gid. */
export const PASSWD = { NAME: 0, PASSWD: 8, UID: 16, GID: 20 } as const;
