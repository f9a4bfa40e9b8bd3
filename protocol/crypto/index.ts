// The crypto suite shared by server and client (no I/O): Ed25519, X25519 HPKE, AES-GCM, HKDF.
export * from './signing.js';
export * from './hpke.js';
export * from './symmetric.js';
