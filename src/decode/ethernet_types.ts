/** Constants of the Ethernet type/length field shared by ethernet.ts and vlan.ts. */
export const ETHERNET_HEADER_LEN = 14;
/** Largest 802.3 length value. */
export const MAX_8023_LENGTH = 1500;
/** Values from here up are EtherTypes. */
export const MIN_ETHERTYPE = 0x0600;
