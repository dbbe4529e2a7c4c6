// Where a function starts, for addresses no symbol covers: a stripped
// binary's own functions, a library's static functions when only .dynsym is
// left, the vdso's helpers. The unwind table knows every function's range
// even then: .eh_frame_hdr (the PT_GNU_EH_FRAME segment) holds a sorted
// table of (function start, FDE) pairs, and each FDE holds its function's
// length. With it, the samples of one unnamed function become one
// `[unknown] module+0x<start>` frame instead of one frame per address.
//
// Only the layout every mainstream linker writes is read: a version 1 header
// with 4-byte fields and a table of datarel sdata4 pairs, and FDEs whose
// start is pcrel sdata4. Anything else (and an FDE whose start disagrees
// with the table: another encoding) answers undefined, and the address is
// kept as it is. A big binary's table is hundreds of kilobytes (cc1: 45,000
// functions), so only every 64th start is kept in memory, read in one pass
// on the first lookup; a lookup then reads one block of 64 entries and one
// FDE. Callers cache the frames they make.

import { PT_GNU_EH_FRAME, type ElfFile } from './elf-reader.js';

const DW_EH_PE_udata4 = 0x03;
const DW_EH_PE_sdata4 = 0x0b;
const DW_EH_PE_datarel_sdata4 = 0x3b;
/** Entries per block: the in-memory index keeps the first start of each. */
const BLOCK = 64;
const ENTRY = 8;

export class FunctionBounds {
  /** The first function start of each block of BLOCK entries, read on the first lookup. */
  private blockStarts: Float64Array | undefined;

  private constructor(
    private readonly elf: ElfFile,
    /** Virtual address of .eh_frame_hdr: the table's values are relative to it. */
    private readonly hdrVaddr: number,
    private readonly tableOffset: number,
    private readonly count: number,
  ) {}

  /** The unwind table of an ELF file, or undefined when it has none in a layout this reads. */
  static open(elf: ElfFile): FunctionBounds | undefined {
    const seg = elf.programHeaders.find((p) => p.type === PT_GNU_EH_FRAME);
    if (!seg || seg.filesz < 12 || seg.offset + seg.filesz > elf.source.size) return undefined;
    const h = elf.source.read(seg.offset, 12);
    const [version, framePtrEnc, countEnc, tableEnc] = [h[0], h[1], h[2], h[3]];
    const fourBytes = (enc: number | undefined) => enc !== undefined && ((enc & 0x0f) === DW_EH_PE_udata4 || (enc & 0x0f) === DW_EH_PE_sdata4);
    if (version !== 1 || !fourBytes(framePtrEnc) || (countEnc !== DW_EH_PE_udata4 && countEnc !== DW_EH_PE_sdata4) || tableEnc !== DW_EH_PE_datarel_sdata4) return undefined;
    const count = h.readUInt32LE(8);
    if (count === 0 || 12 + count * 8 > seg.filesz) return undefined;
    return new FunctionBounds(elf, seg.vaddr, seg.offset + 12, count);
  }

  /** The start of the function whose FDE covers vaddr, or undefined. */
  startOf(vaddr: number): number | undefined {
    const blocks = (this.blockStarts ??= this.readBlockStarts());
    // The last block, then the last entry in it, whose start is at or below vaddr.
    const block = lastAtOrBelow(blocks.length, (i) => blocks[i]!, vaddr);
    if (block < 0) return undefined;
    const first = block * BLOCK;
    const n = Math.min(BLOCK, this.count - first);
    const entries = this.elf.source.read(this.tableOffset + first * ENTRY, n * ENTRY);
    const found = lastAtOrBelow(n, (i) => this.hdrVaddr + entries.readInt32LE(i * ENTRY), vaddr);
    const start = this.hdrVaddr + entries.readInt32LE(found * ENTRY);
    const fdeVaddr = this.hdrVaddr + entries.readInt32LE(found * ENTRY + 4);
    const fdeOffset = this.elf.vaddrToFileOffset(fdeVaddr, 16);
    if (fdeOffset === undefined) return undefined;
    const fde = this.elf.source.read(fdeOffset, 16);
    const length = fde.readUInt32LE(0);
    if (length === 0xffffffff || length < 12 || fde.readInt32LE(4) === 0) return undefined; // 64-bit length, too short, or a CIE
    const pcBegin = fdeVaddr + 8 + fde.readInt32LE(8);
    if (pcBegin !== start) return undefined; // not pcrel sdata4
    return vaddr < start + fde.readUInt32LE(12) ? start : undefined;
  }

  private readBlockStarts(): Float64Array {
    const starts = new Float64Array(Math.ceil(this.count / BLOCK));
    // Through one buffer of a few blocks: the table is never held whole.
    const chunk = Buffer.allocUnsafe(BLOCK * ENTRY * 64);
    for (let b = 0; b < starts.length; ) {
      const entries = Math.min(this.count - b * BLOCK, chunk.length / ENTRY);
      const data = this.elf.source.readInto(this.tableOffset + b * BLOCK * ENTRY, chunk.subarray(0, entries * ENTRY));
      for (let e = 0; e < entries; e += BLOCK, b++) starts[b] = this.hdrVaddr + data.readInt32LE(e * ENTRY);
    }
    return starts;
  }
}

/** The last index in [0, n) whose value is at or below x (values ascending), or -1. */
function lastAtOrBelow(n: number, value: (i: number) => number, x: number): number {
  let lo = 0;
  let hi = n - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (value(mid) <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
