/**
 * MACsec SecTAG (IEEE 802.1AE, EtherType 0x88e5): the TCI bits (version, end station,
 * SCI present, single copy broadcast, encrypted, changed text), association number,
 * short length, packet number and the SCI (system identifier and port). The secure
 * data ends 16 bytes (the ICV) before the frame's end, or after `Short_Length` bytes
 * when that is set. When the frame is integrity-only (E and C clear), the data is the
 * frame's EtherType and payload and is decoded; otherwise it is encrypted (Payload).
 */
import type { Frame } from "./frame.ts";
import { dispatch, ETHERTYPE, register } from "./registry.ts";
import type { Layer } from "./record.ts";
import { hex, mac } from "./format.ts";
import { need, u16, u32 } from "./bytes.ts";

export const LAYER_MACSEC = "MACsec";
const ETHERTYPE_MACSEC = 0x88e5;
const SECTAG_LEN = 6;
const SCI_LEN = 8;
const ICV_LEN = 16;

export function decodeMacsec(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_MACSEC;
  if (!need(f, name, off, end, SECTAG_LEN, "SecTAG")) return;
  const tci = b[off];
  // The whole byte, as Wireshark shows it (the top two bits are reserved; 0-47 is a length).
  const sl = b[off + 1];
  const scPresent = (tci & 0x20) !== 0;
  const encrypted = (tci & 0x08) !== 0;
  const changed = (tci & 0x04) !== 0;
  const m: Layer = {
    TCI: tci >> 2,
    Version: tci >> 7,
    End_Station: (tci & 0x40) !== 0,
    SCI_Present: scPresent,
    Single_Copy_Broadcast: (tci & 0x10) !== 0,
    Encrypted: encrypted,
    Changed_Text: changed,
    Association_Number: tci & 3,
    Short_Length: sl,
    Packet_Number: u32(b, off + 2),
  };
  f.layer(name, m);
  let p = off + SECTAG_LEN;
  if (scPresent) {
    if (!need(f, name, p, end, SCI_LEN, "SCI")) return;
    m.SCI_System_Identifier = mac(b, p);
    m.SCI_Port_Identifier = u16(b, p + 6);
    p += SCI_LEN;
  }
  const dataEnd = sl !== 0 ? p + sl : end - ICV_LEN;
  if (dataEnd < p || dataEnd + ICV_LEN > end) {
    f.fault(name, "secure data and ICV do not fit the frame", off + 1);
    return;
  }
  if (f.has(dataEnd, ICV_LEN)) m.ICV = hex(b, dataEnd, dataEnd + ICV_LEN);
  else f.truncated(name, dataEnd);
  if (encrypted || changed) {
    f.rest(p, dataEnd, "MACsec encrypted data");
    return;
  }
  if (!need(f, name, p, dataEnd, 2, "MACsec EtherType")) return;
  const type = u16(b, p);
  m.EtherType = type;
  dispatch(ETHERTYPE, type, f, p + 2, dataEnd);
}

register(ETHERTYPE, ETHERTYPE_MACSEC, decodeMacsec);
