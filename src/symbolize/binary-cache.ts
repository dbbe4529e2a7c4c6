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

import { readFileSync, openSync, readSync, closeSync, type Stats } from 'node:fs';
import { release } from 'node:os';
import { buildIdOf, loadElfSymbols, loadImageSymbols, openElfFile, vdsoDebugFiles, type BinarySymbols } from './binary-symbols.js';
import { parseMaps, statIfPresent, type Mapping } from './proc-maps.js';

export interface BinaryCacheOptions {
  procRoot: string;
  debugDirs?: string[];
  /** Unreferenced binaries kept for reuse by later processes. */
  maxUnreferenced?: number;
}

/** How long one stat of a plain path serves the processes that map it, and how many are kept. */
const PATH_STAT_TTL_MS = 2000;
const MAX_PATH_STATS = 1024;

export class BinaryCache {
  private readonly byIdentity = new Map<string, BinarySymbols | null>();
  private readonly pathStats = new Map<string, { stat: Stats | undefined; at: number }>();
  private readonly byBuildId = new Map<string, BinarySymbols>();
  private vdso: BinarySymbols | null | undefined;
  loads = 0;
  loadFailures = 0;

  constructor(private readonly opts: BinaryCacheOptions) {}

  get size(): number {
    return this.byBuildId.size + [...this.byIdentity.values()].filter((b) => b && !b.buildId).length;
  }

  /**
   * The symbols behind a file-backed mapping of pid; null when the file cannot
   * be opened or is not ELF. sameRoot: the process has this process's root
   * directory (the capture engine checked), so its paths name our files.
   */
  forMapping(pid: number, m: Mapping, sameRoot = false): BinarySymbols | null {
    for (const candidate of this.mappingCandidates(pid, m, sameRoot)) {
      const { stat } = candidate;
      const identity = `${stat.dev}:${stat.ino}:${stat.mtimeMs}:${stat.size}`;
      const known = this.byIdentity.get(identity);
      if (known !== undefined) {
        this.touch(identity, known);
        return known;
      }
      // One open serves the build-id and the symbols: the descriptor outlives the
      // process, while its /proc paths may vanish between a stat and an open.
      const elf = openElfFile(candidate.path);
      if (elf === undefined) continue; // gone since the stat: the next path may still reach the file
      let bin: BinarySymbols | null = null;
      if (elf) {
        const buildId = buildIdOf(elf);
        const shared = buildId ? this.byBuildId.get(buildId) : undefined;
        if (shared) {
          elf.close();
          bin = shared;
        } else {
          this.loads++;
          const rootPrefix = `${this.opts.procRoot}/${pid}/root`;
          bin = loadElfSymbols(elf, { mappedPath: m.path, rootPrefix, debugDirs: this.opts.debugDirs });
          if (bin.buildId) this.byBuildId.set(bin.buildId, bin);
        }
      }
      if (!bin) this.loadFailures++;
      // Only a file that was read is remembered: one that could not be opened may open for the next process.
      this.byIdentity.set(identity, bin);
      this.evict();
      return bin;
    }
    this.loadFailures++;
    return null;
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
            this.vdso = loadImageSymbols(image, '[vdso]', { debugDirs: this.opts.debugDirs, extraDebugFiles: vdsoDebugFiles(release()) }) ?? null;
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

  /**
   * The paths that may reach a mapping's file, each with its stat, best first.
   * The same inode proves a path holds the mapped file and not a replacement;
   * when none matches, only map_files is trusted, as it is the mapping itself.
   */
  private *mappingCandidates(pid: number, m: Mapping, sameRoot: boolean): Generator<{ path: string; stat: Stats }> {
    const base = `${this.opts.procRoot}/${pid}`;
    const viaRoot = `${base}/root${m.path}`;
    const viaMapFiles = `${base}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`;
    // The plain path comes last: it is right for a process of this mount namespace that
    // has already exited (its /proc entries are gone), and the inode check guards the rest.
    // A process with our root comes to it first: the agent names a short-lived process's
    // samples after it has gone, when its /proc paths fail for every mapping.
    const paths = m.deleted
      ? [viaMapFiles, viaRoot]
      : sameRoot && this.opts.procRoot === '/proc'
        ? [m.path, viaMapFiles]
        : [viaRoot, viaMapFiles, m.path];
    let matched = false;
    let mapFiles: Stats | undefined;
    for (const path of paths) {
      const stat = path === m.path ? this.statShared(path, m.inode) : statIfPresent(path);
      if (!stat?.isFile()) continue;
      if (stat.ino === m.inode) {
        matched = true;
        yield { path, stat };
      } else if (path === viaMapFiles) mapFiles = stat;
    }
    if (!matched && mapFiles) yield { path: viaMapFiles, stat: mapFiles };
  }

  /**
   * A plain path's stat, shared for a moment by the processes that map the
   * file: a build starts hundreds of processes a second, each mapping the
   * same libraries. A cached stat serves only the inode it found; a mapping
   * of another inode (the file was replaced) stats again.
   */
  private statShared(path: string, inode: number): Stats | undefined {
    const now = Date.now();
    const cached = this.pathStats.get(path);
    if (cached && now - cached.at < PATH_STAT_TTL_MS && cached.stat?.ino === inode) return cached.stat;
    const stat = statIfPresent(path);
    if (this.pathStats.size >= MAX_PATH_STATS) {
      for (const [p, c] of this.pathStats) if (now - c.at >= PATH_STAT_TTL_MS) this.pathStats.delete(p);
      if (this.pathStats.size >= MAX_PATH_STATS) this.pathStats.clear();
    }
    this.pathStats.set(path, { stat, at: now });
    return stat;
  }

  /** Process references, so eviction spares binaries still mapped by a live process. */
  retain(bin: BinarySymbols): void {
    bin.refs++;
  }

  release(bin: BinarySymbols): void {
    // Only a binary no process maps any more can make the cache too big.
    if (bin.refs > 0 && --bin.refs === 0) this.evict();
  }

  private touch(identity: string, bin: BinarySymbols | null): void {
    // Map keeps insertion order: re-inserting makes eviction least-recently-used.
    this.byIdentity.delete(identity);
    this.byIdentity.set(identity, bin);
  }

  private evict(): void {
    const max = this.opts.maxUnreferenced ?? 16;
    let unreferenced = 0;
    // forEach, not for-of: the agent runs at V8's baseline tier, where each step of an iterator is an
    // object, and a build's processes come and go by the thousand.
    this.byIdentity.forEach((b) => {
      if (!b || b.refs === 0) unreferenced++;
    });
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
