/**
 * IEEE 802.2 LLC (type 1 and 2 headers) and SNAP (RFC 1042).
 *
 * The control field is one byte for U frames (low two bits 11) and two bytes,
 * read little-endian as Wireshark does, for I and S frames (802.2 always uses
 * modulo-128 sequence numbers there). SNAP follows when DSAP and SSAP are both
 * 0xaa. Only information frames (I frames, and UI with the P/F bit clear) carry
 * an upper protocol, as in Wireshark; other frames end as a Payload.
 */
import type { Frame } from "./frame.ts";
import { dispatch, ETHERTYPE, LLC_SAP, SNAP } from "./registry.ts";
import { LAYER } from "./record.ts";

const OFF = { DSAP: 0, SSAP: 1, CONTROL: 2 } as const;
const SNAP_OFF = { OUI: 0, PID: 3 } as const;
/** DSAP + SSAP + one-byte control (U frames). */
export const LLC_U_HEADER_LEN = 3;
/** DSAP + SSAP + two-byte control (I and S frames). */
export const LLC_IS_HEADER_LEN = 4;
export const SNAP_HEADER_LEN = 5;
export const SAP_SNAP = 0xaa;
/** Low bits of the first control byte: 11 = U frame. */
const U_FRAME_BITS = 0x03;
/** UI command with the P/F bit clear: the only U frame with upper-layer data. */
const CONTROL_UI = 0x03;
/** U-frame modifier mask (P/F bit 0x10 cleared). */
const U_MODIFIER_MASK = 0xef;
const CONTROL_XID = 0xaf;
const CONTROL_TEST = 0xe3;
/** SNAP OUIs whose Protocol_ID is an EtherType (RFC 1042, Cisco's 00000f8). */
export const OUI_ENCAP_ETHER = 0x000000;
export const OUI_CISCO_90 = 0x0000f8;

/** Novell "raw 802.3": IPX right after the length, recognised by its 0xffff checksum. */
const RAW_IPX_MARK = 0xffff;

/**
 * The payload of an 802.3 frame (or of a VLAN tag) whose type/length field at `lenOff`
 * holds the length `length`: 802.2 LLC clipped to that length, or Novell raw IPX.
 * A length past the frame is a fault on `layer`; decoding goes on with the bytes there are.
 */
export function decode8023Payload(
  f: Frame,
  layer: string,
  length: number,
  off: number,
  end: number,
  lenOff: number,
): void {
  let llcEnd = off + length;
  if (llcEnd > end) {
    f.fault(layer, `802.3 length ${length} exceeds frame`, lenOff);
    llcEnd = end;
  }
  if (f.has(off, 2) && f.view.getUint16(off) === RAW_IPX_MARK) {
    f.rest(off, llcEnd, "IPX (raw 802.3)");
    return;
  }
  f.call(decodeLlc, off, llcEnd);
}

/** Key of the SNAP table: OUI * 65536 + Protocol_ID (may exceed 32 bits, so no shifts). */
export function snapKey(oui: number, pid: number): number {
  return oui * 0x10000 + pid;
}

/** OUI in colon form, `00:00:0c`. */
export function ouiText(oui: number): string {
  const h = oui.toString(16).padStart(6, "0");
  return h.slice(0, 2) + ":" + h.slice(2, 4) + ":" + h.slice(4, 6);
}

function frameType(control: number): string {
  if ((control & 1) === 0) return "I";
  return (control & U_FRAME_BITS) === U_FRAME_BITS ? "U" : "S";
}

function nonInformation(control: number): string {
  const m = control & U_MODIFIER_MASK;
  if (m === CONTROL_XID) return "LLC XID";
  if (m === CONTROL_TEST) return "LLC TEST";
  return "LLC control 0x" + control.toString(16).padStart(2, "0");
}

/** Decodes an 802.2 LLC header at `off` whose PDU ends at `end` (from the 802.3 length). */
export function decodeLlc(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const avail = f.limit(end) - off;
  const isU = avail > OFF.CONTROL && (b[off + OFF.CONTROL] & U_FRAME_BITS) === U_FRAME_BITS;
  const hdrLen = isU ? LLC_U_HEADER_LEN : LLC_IS_HEADER_LEN;
  if (avail < hdrLen) {
    // Keep the SAPs that were there, as Wireshark does.
    const partial: Record<string, unknown> = {};
    if (avail > OFF.DSAP) partial.DSAP = b[off + OFF.DSAP];
    if (avail > OFF.SSAP) partial.SSAP = b[off + OFF.SSAP];
    if (avail > OFF.DSAP) f.layer(LAYER.LLC, partial);
    shortHeader(f, LAYER.LLC, off, end, avail > OFF.CONTROL ? hdrLen : LLC_U_HEADER_LEN);
    return;
  }
  const dsap = b[off + OFF.DSAP];
  const ssap = b[off + OFF.SSAP];
  const c0 = b[off + OFF.CONTROL];
  const control = isU ? c0 : c0 | (b[off + OFF.CONTROL + 1] << 8);
  f.layer(LAYER.LLC, {
    DSAP: dsap,
    SSAP: ssap,
    Control: control,
    Frame_Type: frameType(control),
  });
  const next = off + hdrLen;
  const information = (control & 1) === 0 || control === CONTROL_UI;
  if (dsap === SAP_SNAP && ssap === SAP_SNAP) {
    decodeSnap(f, next, end, information, control);
    return;
  }
  if (end - next <= 0) return;
  if (information) dispatch(LLC_SAP, dsap, f, next, end);
  else f.rest(next, end, nonInformation(control));
}

function decodeSnap(f: Frame, off: number, end: number, information: boolean, control: number) {
  if (!f.has(off, SNAP_HEADER_LEN) || end - off < SNAP_HEADER_LEN) {
    shortHeader(f, LAYER.SNAP, off, end, SNAP_HEADER_LEN);
    return;
  }
  const b = f.bytes;
  const oui = (b[off + SNAP_OFF.OUI] << 16) | (b[off + SNAP_OFF.OUI + 1] << 8) |
    b[off + SNAP_OFF.OUI + 2];
  const pid = f.view.getUint16(off + SNAP_OFF.PID);
  f.layer(LAYER.SNAP, { OUI: ouiText(oui), Protocol_ID: pid });
  const next = off + SNAP_HEADER_LEN;
  if (!information) {
    f.rest(next, end, nonInformation(control));
    return;
  }
  if (oui === OUI_ENCAP_ETHER || oui === OUI_CISCO_90) {
    dispatch(ETHERTYPE, pid, f, next, end);
    return;
  }
  const dec = SNAP.map.get(snapKey(oui, pid));
  if (dec !== undefined) f.call(dec, next, end);
  else {
    f.rest(next, end, "SNAP " + ouiText(oui).replaceAll(":", "") + ":" + hex4(pid));
  }
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, "0");
}

/**
 * Records why a header of `need` bytes at `off` could not be read: a fault when the
 * protocol's own length (`end`) is too small, truncation when the capture stopped early.
 */
export function shortHeader(f: Frame, layer: string, off: number, end: number, need: number) {
  if (end - off < need) {
    f.fault(layer, `length ${Math.max(0, end - off)} below header size ${need}`, off);
  } else f.truncated(layer, off);
}
