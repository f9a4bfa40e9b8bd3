// Ed25519 signatures over labelled bytes. Every signed structure travels as {tbs, signature} and is
// verified over exactly those bytes (never a re-encoding); the label separates purposes so a
// signature made for one structure can never be replayed as another.
import { ed25519 } from '@noble/curves/ed25519.js';

const LABEL_PREFIX = 'mls-homeserver/v1/';

export interface SigningKeyPair {
  /** 32-byte Ed25519 seed. */
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const privateKey = ed25519.utils.randomSecretKey();
  return { privateKey, publicKey: ed25519.getPublicKey(privateKey) };
}

export function signingPublicKey(privateKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(privateKey);
}

function labelled(label: string, tbs: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(`${LABEL_PREFIX}${label}\0`);
  const message = new Uint8Array(prefix.length + tbs.length);
  message.set(prefix);
  message.set(tbs, prefix.length);
  return message;
}

export function signLabelled(privateKey: Uint8Array, label: string, tbs: Uint8Array): Uint8Array {
  return ed25519.sign(labelled(label, tbs), privateKey);
}

/** False for any malformed key or signature, never an exception. */
export function verifyLabelled(publicKey: Uint8Array, label: string, tbs: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, labelled(label, tbs), publicKey);
  } catch {
    return false;
  }
}
