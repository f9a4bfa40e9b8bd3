// The crypto suite shared by server and client (no I/O): Ed25519, X25519 HPKE, AES-GCM, HKDF, and
// ChaCha20-Poly1305 with HMAC-SHA256 for the queue ratchet.
export * from './signing.js';
export * from './hpke.js';
export * from './symmetric.js';
export * from './sodium.js';
