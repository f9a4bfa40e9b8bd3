// Types for the wasm-bindgen glue module of openmls-wasm, which the package ships untyped.
declare module 'openmls-wasm/openmls_wasm_bg.js' {
  export * from 'openmls-wasm';
  export function __wbg_set_wasm(exports: Record<string, unknown>): void;
}
