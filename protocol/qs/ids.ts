// Pseudonymous identifiers: a PUID names a user record, a PCID a client record and its queue. Both are
// 16 random bytes sampled by the QS; actors are keyed by their base64url form.
import { badRequest } from '../errors.js';
import { randomBytes } from '../crypto/index.js';

export const ID_BYTES = 16;

export function newId(): Uint8Array {
  return randomBytes(ID_BYTES);
}

/** The actor key for an id. */
export function idKey(id: Uint8Array): string {
  return Buffer.from(id).toString('base64url');
}

export function idFromKey(key: string): Uint8Array {
  return new Uint8Array(Buffer.from(key, 'base64url'));
}

/** Refuses anything but a 16-byte id. */
export function requireId(id: Uint8Array | null | undefined, what: string): Uint8Array {
  if (!id || id.length !== ID_BYTES) throw badRequest(`${what} must be ${ID_BYTES} bytes`);
  return id;
}

/** Refuses a public key of the wrong size (Ed25519 and X25519 keys are both 32 bytes). */
export function requireKey(key: Uint8Array | null | undefined, what: string): Uint8Array {
  if (!key || key.length !== 32) throw badRequest(`${what} must be a 32-byte public key`);
  return key;
}
