// What a store's segments/ folder holds, as paths relative to it: the files
// in its hour directories (`2026-11-28T14/<name>.seg`) and any directly in it
// (the layout before hour directories), temp files included. Sorted.
import fs from 'node:fs';
import path from 'node:path';

export function segmentFiles(storeDir: string, readdir: (p: string) => string[] = (p) => fs.readdirSync(p)): string[] {
  const root = path.join(storeDir, 'segments');
  const out: string[] = [];
  for (const entry of readdir(root)) {
    if (fs.statSync(path.join(root, entry)).isDirectory()) for (const f of readdir(path.join(root, entry))) out.push(`${entry}/${f}`);
    else out.push(entry);
  }
  return out.sort();
}

/** Temp files (a write's, before its rename) anywhere in the store's top, tables or segments. */
export function tempFiles(storeDir: string): string[] {
  const top = ['', 'tables'].flatMap((d) => fs.readdirSync(path.join(storeDir, d)).map((f) => path.join(d, f)));
  return [...top, ...segmentFiles(storeDir).map((f) => path.join('segments', f))].filter((f) => path.basename(f).startsWith('.'));
}
