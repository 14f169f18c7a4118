/**
 * Classic BPF (linux/filter.h): opcodes and a tiny assembler with forward labels.
 * A program is `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }[]`, 8 bytes
 * per instruction in host (little-endian) order, ready for SO_ATTACH_FILTER.
 */

// instruction classes
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;
// sizes
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
// modes
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;
// alu / jump operations
export const BPF_ADD = 0x00;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
// operand source
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_A = 0x10;
// misc
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

/** Size of one struct sock_filter. */
export const SOCK_FILTER_LEN = 8;
/** The kernel's limit on classic BPF program length (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** One instruction as numbers. */
export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

interface Pending {
  code: number;
  k: number;
  /** Label names for conditional jumps; null = the next instruction. */
  jt: string | null;
  jf: string | null;
}

/**
 * Assembles a classic BPF program. Conditional jumps name labels defined later
 * (classic BPF only jumps forward, at most 255 instructions).
 *
 * @example
 * ```ts
 * import { Assembler, BPF_ABS, BPF_H, BPF_LD } from "./src/filter/bpf.ts";
 * const a = new Assembler();
 * a.stmt(BPF_LD | BPF_H | BPF_ABS, 12);
 * a.jeq(0x0800, "ipv4", null);
 * a.ret(0xffffffff);
 * a.label("ipv4");
 * a.ret(0);
 * a.bytes(); // 4 instructions, 32 bytes
 * ```
 */
export class Assembler {
  private readonly code: Pending[] = [];
  private readonly labels = new Map<string, number>();

  /** Defines `name` as the position of the next instruction. */
  label(name: string): void {
    if (this.labels.has(name)) throw new Error(`BPF label ${name} defined twice`);
    this.labels.set(name, this.code.length);
  }

  stmt(code: number, k = 0): void {
    this.code.push({ code, k: k >>> 0, jt: null, jf: null });
  }

  jump(op: number, k: number, jt: string | null, jf: string | null): void {
    this.code.push({ code: BPF_JMP | op | BPF_K, k: k >>> 0, jt, jf });
  }

  /** Conditional jump comparing A with X. */
  jumpX(op: number, jt: string | null, jf: string | null): void {
    this.code.push({ code: BPF_JMP | op | BPF_X, k: 0, jt, jf });
  }

  jeq(k: number, jt: string | null, jf: string | null): void {
    this.jump(BPF_JEQ, k, jt, jf);
  }

  ret(k: number): void {
    this.stmt(BPF_RET | BPF_K, k);
  }

  /** Resolves labels into instruction numbers. */
  assemble(): Insn[] {
    if (this.code.length > BPF_MAXINSNS) {
      throw new Error(`BPF program too long (${this.code.length})`);
    }
    return this.code.map((p, i) => ({
      code: p.code,
      k: p.k,
      jt: this.offset(p.jt, i),
      jf: this.offset(p.jf, i),
    }));
  }

  /** The program as struct sock_filter[] bytes (little-endian, as on x86-64 and arm64). */
  bytes(): Uint8Array {
    return encodeProgram(this.assemble());
  }

  private offset(label: string | null, at: number): number {
    if (label === null) return 0;
    const to = this.labels.get(label);
    if (to === undefined) throw new Error(`BPF label ${label} not defined`);
    const d = to - at - 1;
    if (d < 0 || d > 255) throw new Error(`BPF jump to ${label} out of range (${d})`);
    return d;
  }
}

/** struct sock_filter[] bytes of a program. */
export function encodeProgram(prog: Insn[]): Uint8Array {
  const out = new Uint8Array(prog.length * SOCK_FILTER_LEN);
  const v = new DataView(out.buffer);
  prog.forEach((ins, i) => {
    const o = i * SOCK_FILTER_LEN;
    v.setUint16(o, ins.code, true);
    v.setUint8(o + 2, ins.jt);
    v.setUint8(o + 3, ins.jf);
    v.setUint32(o + 4, ins.k, true);
  });
  return out;
}

/** Instructions from struct sock_filter[] bytes. */
export function decodeProgram(bytes: Uint8Array): Insn[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let o = 0; o + SOCK_FILTER_LEN <= bytes.length; o += SOCK_FILTER_LEN) {
    out.push({
      code: v.getUint16(o, true),
      jt: v.getUint8(o + 2),
      jf: v.getUint8(o + 3),
      k: v.getUint32(o + 4, true),
    });
  }
  return out;
}
