/**
 * Arista's vendor EtherType header (0xd28b, "AVSP" in Wireshark): subtype 1 is a
 * timestamp, version 0x0010 with 32-bit seconds and nanoseconds, version 0x0020 with
 * 16-bit seconds and 32-bit nanoseconds; the frame's own EtherType follows.
 */
import type { Frame } from "./frame.ts";
import { dispatch, ETHERTYPE, register } from "./registry.ts";
import type { Layer } from "./record.ts";
import { need, u16, u32 } from "./bytes.ts";

export const LAYER_ARISTA = "Arista";
const ETHERTYPE_ARISTA = 0xd28b;
const SUBTYPE_TIMESTAMP = 1;
const VERSION_64 = 0x0010;
const VERSION_48 = 0x0020;

export function decodeArista(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_ARISTA;
  if (!need(f, name, off, end, 4, "Arista header")) return;
  const sub = u16(b, off);
  const a: Layer = { Subtype: sub };
  f.layer(name, a);
  let p = off + 2;
  if (sub === SUBTYPE_TIMESTAMP) {
    const ver = u16(b, p);
    a.Version = ver;
    p += 2;
    if (ver === VERSION_64) {
      if (!need(f, name, p, end, 8, "Arista timestamp")) return;
      a.Timestamp_Seconds = u32(b, p);
      a.Timestamp_Nanoseconds = u32(b, p + 4);
      p += 8;
    } else if (ver === VERSION_48) {
      if (!need(f, name, p, end, 6, "Arista timestamp")) return;
      a.Timestamp_Seconds = u16(b, p);
      a.Timestamp_Nanoseconds = u32(b, p + 2);
      p += 6;
    } else {
      f.rest(p, end, `Arista timestamp version 0x${ver.toString(16).padStart(4, "0")}`);
      return;
    }
  }
  if (!need(f, name, p, end, 2, "Arista EtherType")) return;
  const type = u16(b, p);
  a.EtherType = type;
  dispatch(ETHERTYPE, type, f, p + 2, end);
}

register(ETHERTYPE, ETHERTYPE_ARISTA, decodeArista);
