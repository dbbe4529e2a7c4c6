// The per-binary symbol cache shared by all processes: a mapping of a
// process is turned into the BinarySymbols of the file behind it, loaded once
// per binary. Keys: the file's identity (dev, inode, mtime, size — cheap to
// get with one stat) and, once read, its build-id, so the same binary under
// two paths (a container's copy, a hard link) shares one table.
//
// Files are opened through /proc/PID/root/<path> (a container sees its own
// file system) and, when the path is gone or now holds another file,
// /proc/PID/map_files/<start>-<end> (deleted or replaced binaries), and, for a
// process that has exited (the symbolizer kept its maps), the plain path when
// its inode still matches. The cache is bounded: binaries no live process maps
// are evicted, oldest first, beyond a few kept for the next process; an
// evicted binary's file is closed.
// It must not parse ELF itself (binary-symbols.ts does) or track processes.

import { readFileSync, statSync, openSync, readSync, closeSync, type Stats } from 'node:fs';
import { loadBinarySymbols, loadImageSymbols, readBuildId, type BinarySymbols } from './binary-symbols.js';
import { parseMaps, type Mapping } from './proc-maps.js';

export interface BinaryCacheOptions {
  procRoot: string;
  debugDirs?: string[];
  /** Unreferenced binaries kept for reuse by later processes. */
  maxUnreferenced?: number;
}

export class BinaryCache {
  private readonly byIdentity = new Map<string, BinarySymbols | null>();
  private readonly byBuildId = new Map<string, BinarySymbols>();
  private vdso: BinarySymbols | null | undefined;
  loads = 0;
  loadFailures = 0;

  constructor(private readonly opts: BinaryCacheOptions) {}

  get size(): number {
    return this.byBuildId.size + [...this.byIdentity.values()].filter((b) => b && !b.buildId).length;
  }

  /** The symbols behind a file-backed mapping of pid; null when the file cannot be opened or is not ELF. */
  forMapping(pid: number, m: Mapping): BinarySymbols | null {
    const opened = this.openMapping(pid, m);
    if (!opened) {
      this.loadFailures++;
      return null;
    }
    const identity = `${opened.stat.dev}:${opened.stat.ino}:${opened.stat.mtimeMs}:${opened.stat.size}`;
    const known = this.byIdentity.get(identity);
    if (known !== undefined) {
      this.touch(identity, known);
      return known;
    }
    const buildId = readBuildId(opened.path);
    let bin = buildId ? this.byBuildId.get(buildId) : undefined;
    if (!bin) {
      this.loads++;
      const rootPrefix = `${this.opts.procRoot}/${pid}/root`;
      bin = loadBinarySymbols(opened.path, { mappedPath: m.path, rootPrefix, debugDirs: this.opts.debugDirs }) ?? undefined;
      if (bin?.buildId) this.byBuildId.set(bin.buildId, bin);
    }
    if (!bin) this.loadFailures++;
    this.byIdentity.set(identity, bin ?? null);
    this.evict();
    return bin ?? null;
  }

  /**
   * The vdso's symbols. Every process of one kernel maps the same vdso image,
   * so it is read once from this process's own memory.
   */
  forVdso(): BinarySymbols | null {
    if (this.vdso === undefined) {
      this.vdso = null;
      try {
        const self = parseMaps(readFileSync('/proc/self/maps', 'utf8')).find((m) => m.path === '[vdso]');
        if (self) {
          const fd = openSync('/proc/self/mem', 'r');
          try {
            const image = Buffer.alloc(self.end - self.start);
            readSync(fd, image, 0, image.length, self.start);
            this.vdso = loadImageSymbols(image, '[vdso]') ?? null;
          } finally {
            closeSync(fd);
          }
        }
      } catch {
        this.vdso = null;
      }
    }
    return this.vdso;
  }

  private openMapping(pid: number, m: Mapping): { path: string; stat: Stats } | undefined {
    const base = `${this.opts.procRoot}/${pid}`;
    const viaRoot = `${base}/root${m.path}`;
    const viaMapFiles = `${base}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`;
    // The plain path comes last: it is right for a process of this mount namespace that
    // has already exited (its /proc entries are gone), and the inode check guards the rest.
    const candidates = m.deleted ? [viaMapFiles, viaRoot] : [viaRoot, viaMapFiles, m.path];
    let fallback: { path: string; stat: Stats } | undefined;
    for (const path of candidates) {
      let stat: Stats;
      try {
        stat = statSync(path);
      } catch {
        continue;
      }
      if (!stat.isFile()) continue;
      // The same inode proves it is the mapped file and not a replacement at the same path.
      if (stat.ino === m.inode) return { path, stat };
      fallback ??= { path, stat };
    }
    // No inode match: only trust a candidate that is certainly the mapping (map_files).
    return fallback && fallback.path === viaMapFiles ? fallback : undefined;
  }

  /** Process references, so eviction spares binaries still mapped by a live process. */
  retain(bin: BinarySymbols): void {
    bin.refs++;
  }

  release(bin: BinarySymbols): void {
    if (bin.refs > 0) bin.refs--;
    this.evict();
  }

  private touch(identity: string, bin: BinarySymbols | null): void {
    // Map keeps insertion order: re-inserting makes eviction least-recently-used.
    this.byIdentity.delete(identity);
    this.byIdentity.set(identity, bin);
  }

  private evict(): void {
    const max = this.opts.maxUnreferenced ?? 16;
    let unreferenced = 0;
    for (const b of this.byIdentity.values()) if (!b || b.refs === 0) unreferenced++;
    if (unreferenced <= max) return;
    for (const [key, b] of this.byIdentity) {
      if (unreferenced <= max) break;
      if (b && b.refs > 0) continue;
      this.byIdentity.delete(key);
      unreferenced--;
      if (!b || [...this.byIdentity.values()].includes(b)) continue;
      if (b.buildId && this.byBuildId.get(b.buildId) === b) this.byBuildId.delete(b.buildId);
      b.close();
    }
  }
}
