// Demangling of C++ (Itanium `_Z…`) and Rust (legacy `_ZN…17h<hash>E` and v0
// `_R…`) symbol names, through gecko-profiler-demangle (the Firefox
// Profiler's WebAssembly build of the Rust demanglers).
//
// That package imports its .wasm as an ES module, which Node 20 cannot do
// without a flag, so the module is instantiated here by hand, synchronously,
// on first use. If the package is missing or fails to load, names pass
// through unchanged: a mangled name is still a name, never a dropped frame.
// This module must not cache: callers cache whole frames per binary address.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { dirname, join } from 'node:path';

type DemangleFn = (name: string) => string;

let demangler: DemangleFn | null | undefined;
let loadError: string | undefined;

interface WasmBindings {
  demangle_any: DemangleFn;
  __wbg_set_wasm: (exports: WebAssembly.Exports) => void;
}

// The JavaScript glue has no .wasm import of its own, so it loads as plain ESM;
// a failure here only turns demangling off.
const GLUE = 'gecko-profiler-demangle/index_bg.js';
const glue = (await import(GLUE).catch((err: Error) => {
  loadError = err.message;
  return null;
})) as WasmBindings | null;

/** Instantiates the WebAssembly demangler on first use; null when it is unavailable. */
function loadDemangler(): DemangleFn | null {
  if (demangler !== undefined) return demangler;
  demangler = null;
  if (!glue) return null;
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('gecko-profiler-demangle/package.json'));
    // Baseline (Liftoff) code only: V8 otherwise recompiles the hot functions
    // of this 0.5 MB module with TurboFan in the background, which held about
    // 6 MB more memory in the resident agent and did not demangle faster
    // (names are demangled once per function: 20k names take ~50 ms either way).
    // WebAssembly in profctl is only this module.
    v8.setFlagsFromString('--liftoff-only');
    const module = new WebAssembly.Module(readFileSync(join(dir, 'index_bg.wasm')));
    const instance = new WebAssembly.Instance(module, { './index_bg.js': glue as unknown as WebAssembly.ModuleImports });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    demangler = glue.demangle_any;
  } catch (err) {
    loadError = (err as Error).message;
  }
  return demangler;
}

/** Whether a name looks mangled by a scheme the demangler knows. */
export function looksMangled(name: string): boolean {
  return name.startsWith('_Z') || name.startsWith('_R') || name.startsWith('__Z');
}

/** The readable form of a symbol name; the input itself when it is not mangled or cannot be demangled. */
export function demangle(name: string): string {
  if (!looksMangled(name)) return name;
  const fn = loadDemangler();
  if (!fn) return name;
  try {
    const out = fn(name);
    // On a name it cannot parse, the library's last fallback only drops the leading
    // underscore (a Mach-O convention): that is not a demangled name.
    return out === name.slice(1) ? name : out;
  } catch {
    return name;
  }
}

/** Why demangling is unavailable, for `stats()`; undefined when it works or was not tried. */
export function demanglerError(): string | undefined {
  return loadError;
}
