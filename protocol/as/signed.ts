// {tbs, signature} structures: signed with a purpose label over the exact tbs bytes and decoded only
// after the signature checks out.
import { hs } from '../../schemas/index.js';
import { signLabelled, verifyLabelled } from '../crypto/index.js';
import { sha256 } from '../crypto/index.js';

/** The labels, one per signed structure, so no signature can be replayed as another structure. */
export const Label = {
  asCredential: 'as-credential',
  asIntermediate: 'as-intermediate-credential',
  clientCsr: 'client-csr',
  clientCredential: 'client-credential',
  clientRequest: 'client-request',
  connectionKeyPackage: 'connection-key-package',
  connectionPackage: 'connection-establishment-package',
} as const;
export type Label = (typeof Label)[keyof typeof Label];

export interface Encodes<T> {
  encode(message: T): { finish(): Uint8Array };
}
export interface Decodes<T> {
  decode(bytes: Uint8Array): T;
}

export function signStructure<T>(type: Encodes<T>, message: T, label: Label, privateKey: Uint8Array): hs.as.ISigned {
  const tbs = type.encode(message).finish();
  return { tbs, signature: signLabelled(privateKey, label, tbs) };
}

export function signatureValid(signed: hs.as.ISigned, label: Label, publicKey: Uint8Array): boolean {
  return verifyLabelled(publicKey, label, signed.tbs ?? new Uint8Array(), signed.signature ?? new Uint8Array());
}

/** Decodes tbs bytes, or returns undefined when they are not a valid message of `type`. */
export function decodeTbs<T>(type: Decodes<T>, signed: hs.as.ISigned | null | undefined): T | undefined {
  if (!signed?.tbs) return undefined;
  try {
    return type.decode(signed.tbs);
  } catch {
    return undefined;
  }
}

/** SHA-256 of the tbs bytes: how credentials name their signer. */
export const fingerprintOf = (signed: hs.as.ISigned): Uint8Array => sha256(signed.tbs ?? new Uint8Array());
