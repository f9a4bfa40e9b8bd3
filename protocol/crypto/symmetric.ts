// Hashing, key derivation and authenticated encryption (AES-256-GCM) on raw bytes.
import { createCipheriv, createDecipheriv, createHash, randomBytes as nodeRandomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

export const AEAD_NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class AeadOpenError extends Error {
  override readonly name = 'AeadOpenError';
}

// Small random values (nonces, keys) come from a pool filled by the CSPRNG 4 KiB at a time: one call
// into OpenSSL costs far more than the bytes, and busy actors draw a nonce per write. Each byte is
// handed out once and wiped from the pool as it goes.
const POOL_BYTES = 4096;
const POOLED_MAX = 64;
let pool = new Uint8Array(0);
let poolAt = 0;

export function randomBytes(length: number): Uint8Array {
  if (length > POOLED_MAX) return new Uint8Array(nodeRandomBytes(length));
  if (poolAt + length > pool.length) {
    pool = randomFillSync(new Uint8Array(POOL_BYTES));
    poolAt = 0;
  }
  const out = pool.slice(poolAt, poolAt + length);
  pool.fill(0, poolAt, poolAt + length);
  poolAt += length;
  return out;
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** HKDF-SHA256 (RFC 5869); `info` should name the purpose of the derived key. */
export function deriveKey(inputKey: Uint8Array, salt: Uint8Array, info: string, length = 32): Uint8Array {
  return hkdf(nobleSha256, inputKey, salt, new TextEncoder().encode(info), length);
}

/** Lower-case hex, for map keys and SQL text columns (never for comparing secrets). */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** AES-256-GCM with a 32-byte key; the output is ciphertext || 16-byte tag. */
export function aeadSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/** Throws AeadOpenError when the key, nonce, aad or ciphertext do not match. */
export function aeadOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.length < TAG_BYTES) throw new AeadOpenError('ciphertext is shorter than its tag');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
  } catch {
    throw new AeadOpenError('ciphertext does not open with this key');
  }
}
