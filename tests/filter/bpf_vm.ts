/**
 * A classic BPF interpreter, as a test oracle for the programs src/filter builds.
 * Semantics follow the Linux kernel's classic BPF (net/core/filter.c): loads past
 * the end of the packet end the program with 0 (drop), division by zero returns 0,
 * jumps are relative to the next instruction.
 */
import { decodeProgram, type Insn } from "../../src/filter/bpf.ts";

export interface VmResult {
  /** The program's return value: 0 = drop, otherwise bytes to keep. */
  ret: number;
  /** Instructions executed. */
  steps: number;
}

export function runBpf(program: Uint8Array | Insn[], pkt: Uint8Array): VmResult {
  const prog = program instanceof Uint8Array ? decodeProgram(program) : program;
  const v = new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength);
  const len = pkt.length;
  const mem = new Uint32Array(16);
  let a = 0, x = 0, pc = 0, steps = 0;
  const load = (off: number, size: number): number | null => {
    if (off < 0 || off + size > len) return null;
    return size === 4 ? v.getUint32(off) : size === 2 ? v.getUint16(off) : v.getUint8(off);
  };
  while (pc < prog.length) {
    const { code, jt, jf, k } = prog[pc++];
    steps++;
    if (steps > 10_000) throw new Error("BPF program loops");
    const cls = code & 0x07;
    switch (cls) {
      case 0x00: // LD
      case 0x01: { // LDX
        const size = (code & 0x18) === 0x00 ? 4 : (code & 0x18) === 0x08 ? 2 : 1;
        const mode = code & 0xe0;
        let val: number | null;
        if (mode === 0x00) val = k; // IMM
        else if (mode === 0x20) val = load(k, size); // ABS
        else if (mode === 0x40) val = load((x + k) >>> 0, size); // IND
        else if (mode === 0x60) val = mem[k & 15]; // MEM
        else if (mode === 0x80) val = len; // LEN
        else if (mode === 0xa0) { // MSH (ldx only)
          const b = load(k, 1);
          val = b === null ? null : (b & 0xf) * 4;
        } else throw new Error(`bad load mode 0x${code.toString(16)}`);
        if (val === null) return { ret: 0, steps };
        if (cls === 0x00) a = val >>> 0;
        else x = val >>> 0;
        break;
      }
      case 0x02:
        mem[k & 15] = a;
        break;
      case 0x03:
        mem[k & 15] = x;
        break;
      case 0x04: { // ALU
        const src = (code & 0x08) ? x : k;
        switch (code & 0xf0) {
          case 0x00:
            a = (a + src) >>> 0;
            break;
          case 0x10:
            a = (a - src) >>> 0;
            break;
          case 0x20:
            a = Math.imul(a, src) >>> 0;
            break;
          case 0x30:
            if (src === 0) return { ret: 0, steps };
            a = Math.floor(a / src) >>> 0;
            break;
          case 0x40:
            a = (a | src) >>> 0;
            break;
          case 0x50:
            a = (a & src) >>> 0;
            break;
          case 0x60:
            a = src >= 32 ? 0 : (a << src) >>> 0;
            break;
          case 0x70:
            a = src >= 32 ? 0 : a >>> src;
            break;
          case 0x80:
            a = (-a) >>> 0;
            break;
          case 0x90:
            if (src === 0) return { ret: 0, steps };
            a = (a % src) >>> 0;
            break;
          case 0xa0:
            a = (a ^ src) >>> 0;
            break;
          default:
            throw new Error(`bad alu op 0x${code.toString(16)}`);
        }
        break;
      }
      case 0x05: { // JMP
        const op = code & 0xf0;
        const src = (code & 0x08) ? x : k;
        if (op === 0x00) {
          pc += k;
          break;
        }
        let cond: boolean;
        if (op === 0x10) cond = a === src;
        else if (op === 0x20) cond = a > src;
        else if (op === 0x30) cond = a >= src;
        else if (op === 0x40) cond = (a & src) !== 0;
        else throw new Error(`bad jump op 0x${code.toString(16)}`);
        pc += cond ? jt : jf;
        break;
      }
      case 0x06: // RET
        return { ret: ((code & 0x18) === 0x10 ? a : k) >>> 0, steps };
      case 0x07: // MISC
        if ((code & 0xf8) === 0x00) x = a;
        else if ((code & 0xf8) === 0x80) a = x;
        else throw new Error(`bad misc op 0x${code.toString(16)}`);
        break;
    }
  }
  throw new Error("BPF program ran off its end");
}
