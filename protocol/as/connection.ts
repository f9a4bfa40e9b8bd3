// Connection establishment: each client publishes a connection KeyPackage (an X25519 init key
// certified by its client credential); an initiator signs a ConnectionEstablishmentPackage with its own
// client credential and HPKE-seals it to each of the responder's init keys.
import { hs } from '../../schemas/index.js';
import { badRequest, unauthenticated } from '../errors.js';
import { hpkeOpen, hpkeSeal, sha256, constantTimeEqual, type HpkeKeyPair } from '../crypto/index.js';
import { verifyClientCredential, type TrustedCredentials } from './credentials.js';
import { decodeTbs, Label, signatureValid, signStructure } from './signed.js';

type Signed = hs.as.ISigned;
const HPKE_INFO = new TextEncoder().encode('mls-homeserver/v1/connection-establishment-package');

export function createConnectionKeyPackage(clientCredential: Signed, initKey: Uint8Array, notAfterMs: number, signingKey: Uint8Array): Signed {
  return signStructure(hs.as.ConnectionKeyPackageTbs, { clientCredential, initKey, notAfterMs }, Label.connectionKeyPackage, signingKey);
}

/** Checks a connection KeyPackage against the key of the client it claims (the AS uses the key it
 *  registered; a fetcher verifies the credential chain first). Throws BAD_REQUEST. */
export function verifyConnectionKeyPackage(keyPackage: Signed, clientVerifyingKey: Uint8Array, now: number): hs.as.ConnectionKeyPackageTbs {
  const tbs = decodeTbs(hs.as.ConnectionKeyPackageTbs, keyPackage);
  if (!tbs) throw badRequest('connection KeyPackage is malformed');
  if (tbs.initKey.length !== 32) throw badRequest('connection KeyPackage init key must be a 32-byte X25519 key');
  if (tbs.notAfterMs < now) throw badRequest('connection KeyPackage has expired');
  if (!signatureValid(keyPackage, Label.connectionKeyPackage, clientVerifyingKey)) throw badRequest('connection KeyPackage is not signed by its client');
  return tbs;
}

export interface ConnectionPackageContents {
  connectionGroupId: Uint8Array;
  connectionGroupEarKey: Uint8Array;
  connectionGroupCredentialKey: Uint8Array;
}

/** Signs a package with the sender's client credential and seals it to one responder KeyPackage. */
export async function sealConnectionPackage(
  contents: ConnectionPackageContents, sender: { credential: Signed; privateKey: Uint8Array }, recipientInitKey: Uint8Array,
): Promise<hs.as.ISealedConnectionPackage> {
  const signed = signStructure(hs.as.ConnectionEstablishmentPackageTbs, { senderClientCredential: sender.credential, ...contents }, Label.connectionPackage, sender.privateKey);
  const plaintext = hs.as.Signed.encode(signed).finish();
  const initKeyHash = sha256(recipientInitKey);
  const sealed = await hpkeSeal(recipientInitKey, HPKE_INFO, initKeyHash, plaintext);
  return { initKeyHash, enc: sealed.enc, ciphertext: sealed.ciphertext };
}

/**
 * Opens a sealed package with the init key pair it was sealed to, verifies the sender's credential
 * chain against `trusted` and the package signature; returns the sender's credential contents and the
 * package. Throws UNAUTHENTICATED.
 */
export async function openConnectionPackage(
  sealed: hs.as.ISealedConnectionPackage, initKeyPair: HpkeKeyPair, trusted: TrustedCredentials, now: number,
): Promise<{ sender: hs.as.ClientCredentialTbs; contents: hs.as.ConnectionEstablishmentPackageTbs }> {
  const initKeyHash = sha256(initKeyPair.publicKey);
  if (!constantTimeEqual(sealed.initKeyHash ?? new Uint8Array(), initKeyHash)) throw unauthenticated('connection package is sealed to another init key');
  let signed: hs.as.Signed;
  try {
    // Plain copies: decoded fields may be Buffer views into a larger pool.
    const plaintext = await hpkeOpen(initKeyPair, HPKE_INFO, initKeyHash, { enc: Uint8Array.from(sealed.enc ?? []), ciphertext: Uint8Array.from(sealed.ciphertext ?? []) });
    signed = hs.as.Signed.decode(plaintext);
  } catch {
    throw unauthenticated('connection package does not open with this init key');
  }
  const contents = decodeTbs(hs.as.ConnectionEstablishmentPackageTbs, signed);
  if (!contents) throw unauthenticated('connection package is malformed');
  const sender = verifyClientCredential(contents.senderClientCredential, trusted, now);
  if (!signatureValid(signed, Label.connectionPackage, sender.verifyingKey)) throw unauthenticated('connection package signature is invalid');
  return { sender, contents };
}
