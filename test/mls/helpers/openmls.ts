// Loads openmls-wasm (a real OpenMLS build) in Node 20, which cannot import .wasm modules directly:
// instantiate the binary ourselves and hand its exports to the wasm-bindgen glue.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as bg from 'openmls-wasm/openmls_wasm_bg.js';

// The project's lib settings carry no WebAssembly typings; this is the slice used here.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, unknown>) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let ready = false;

export function openmls(): typeof bg {
  if (!ready) {
    const wasmPath = createRequire(import.meta.url).resolve('openmls-wasm/openmls_wasm_bg.wasm');
    const instance = new wasm.Instance(new wasm.Module(readFileSync(wasmPath)), { './openmls_wasm_bg.js': bg });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as (() => void) | undefined)?.();
    ready = true;
  }
  return bg;
}
