// The credential hierarchy: the AS credential (self-signed root of a homeserver), AS intermediate
// credentials (signed by the root, rotated), and client credentials (issued from a client's signing
// request, signed by an intermediate). Every level has a validity period; a chain is valid only when
// every link is valid at the time of checking.
import { hs } from '../../schemas/index.js';
import { badRequest, unauthenticated } from '../errors.js';
import { constantTimeEqual, generateSigningKeyPair } from '../crypto/index.js';
import { parseUserName, requireClientUuid } from './names.js';
import { decodeTbs, fingerprintOf, Label, signatureValid, signStructure } from './signed.js';

type Signed = hs.as.ISigned;

/** A credential and the private key that signs with it (kept by the AS keyring only). */
export interface SigningCredential {
  credential: Signed;
  privateKey: Uint8Array;
}

interface Validity {
  notBeforeMs: number;
  notAfterMs: number;
}

const valid = (tbs: Validity, now: number): boolean => tbs.notBeforeMs <= now && now <= tbs.notAfterMs;

export function createAsCredential(domain: string, now: number, lifetimeMs: number): SigningCredential {
  const keys = generateSigningKeyPair();
  const tbs = { domain, verifyingKey: keys.publicKey, notBeforeMs: now, notAfterMs: now + lifetimeMs };
  return { credential: signStructure(hs.as.AsCredentialTbs, tbs, Label.asCredential, keys.privateKey), privateKey: keys.privateKey };
}

export function createIntermediateCredential(root: SigningCredential, now: number, lifetimeMs: number): SigningCredential {
  const rootTbs = hs.as.AsCredentialTbs.decode(root.credential.tbs!);
  const keys = generateSigningKeyPair();
  const tbs = {
    domain: rootTbs.domain, verifyingKey: keys.publicKey, notBeforeMs: now,
    // An intermediate never outlives the root that vouches for it.
    notAfterMs: Math.min(now + lifetimeMs, rootTbs.notAfterMs),
    signerFingerprint: fingerprintOf(root.credential),
  };
  return { credential: signStructure(hs.as.AsIntermediateCredentialTbs, tbs, Label.asIntermediate, root.privateKey), privateKey: keys.privateKey };
}

/** A signing request for a new client, signed by the key it asks the AS to certify. */
export function createCsr(userName: string, clientUuid: string, signingKey: { privateKey: Uint8Array; publicKey: Uint8Array }, now: number): Signed {
  const tbs = { userName, clientUuid, verifyingKey: signingKey.publicKey, createdMs: now };
  return signStructure(hs.as.ClientCsrTbs, tbs, Label.clientCsr, signingKey.privateKey);
}

/** Checks a CSR's form and its proof of possession; returns its contents. Throws BAD_REQUEST. */
export function verifyCsr(csr: Signed | null | undefined): hs.as.ClientCsrTbs {
  const tbs = decodeTbs(hs.as.ClientCsrTbs, csr);
  if (!tbs) throw badRequest('client signing request is missing or malformed');
  parseUserName(tbs.userName);
  requireClientUuid(tbs.clientUuid);
  if (tbs.verifyingKey.length !== 32) throw badRequest('client signing request must carry a 32-byte Ed25519 key');
  if (!signatureValid(csr!, Label.clientCsr, tbs.verifyingKey)) throw badRequest('client signing request is not signed by the key it certifies');
  return tbs;
}

/** Issues a client credential for an already verified CSR. */
export function issueClientCredential(csr: hs.as.ClientCsrTbs, intermediate: SigningCredential, now: number, lifetimeMs: number): Signed {
  const issuerTbs = hs.as.AsIntermediateCredentialTbs.decode(intermediate.credential.tbs!);
  const tbs = {
    userName: csr.userName, clientUuid: csr.clientUuid, verifyingKey: csr.verifyingKey,
    notBeforeMs: now, notAfterMs: Math.min(now + lifetimeMs, issuerTbs.notAfterMs),
    signerFingerprint: fingerprintOf(intermediate.credential),
  };
  return signStructure(hs.as.ClientCredentialTbs, tbs, Label.clientCredential, intermediate.privateKey);
}

/** The trust anchors a verifier holds: a homeserver's AS credentials and published intermediates. */
export interface TrustedCredentials {
  asCredentials: readonly Signed[];
  intermediates: readonly Signed[];
}

function findByFingerprint(candidates: readonly Signed[], fingerprint: Uint8Array): Signed | undefined {
  return candidates.find((candidate) => constantTimeEqual(fingerprintOf(candidate), fingerprint));
}

/** Verifies an intermediate against the AS credentials; returns its contents. Throws UNAUTHENTICATED. */
export function verifyIntermediate(intermediate: Signed, asCredentials: readonly Signed[], now: number): hs.as.AsIntermediateCredentialTbs {
  const tbs = decodeTbs(hs.as.AsIntermediateCredentialTbs, intermediate);
  if (!tbs) throw unauthenticated('AS intermediate credential is malformed');
  const root = findByFingerprint(asCredentials, tbs.signerFingerprint);
  if (!root) throw unauthenticated('AS intermediate credential is signed by an unknown AS credential');
  const rootTbs = decodeTbs(hs.as.AsCredentialTbs, root);
  if (!rootTbs || !signatureValid(root, Label.asCredential, rootTbs.verifyingKey)) throw unauthenticated('AS credential is not validly self-signed');
  if (!valid(rootTbs, now)) throw unauthenticated('AS credential is outside its validity period');
  if (!signatureValid(intermediate, Label.asIntermediate, rootTbs.verifyingKey)) throw unauthenticated('AS intermediate credential signature is invalid');
  if (tbs.domain !== rootTbs.domain) throw unauthenticated('AS intermediate credential names another domain than its AS credential');
  if (!valid(tbs, now)) throw unauthenticated('AS intermediate credential is outside its validity period');
  return tbs;
}

/** Verifies a client credential up to the AS credential; returns its contents. Throws UNAUTHENTICATED. */
export function verifyClientCredential(credential: Signed | null | undefined, trusted: TrustedCredentials, now: number): hs.as.ClientCredentialTbs {
  const tbs = decodeTbs(hs.as.ClientCredentialTbs, credential);
  if (!tbs) throw unauthenticated('client credential is missing or malformed');
  const intermediate = findByFingerprint(trusted.intermediates, tbs.signerFingerprint);
  if (!intermediate) throw unauthenticated('client credential is signed by an unknown AS intermediate credential');
  const issuer = verifyIntermediate(intermediate, trusted.asCredentials, now);
  if (!signatureValid(credential!, Label.clientCredential, issuer.verifyingKey)) throw unauthenticated('client credential signature is invalid');
  if (!valid(tbs, now)) throw unauthenticated('client credential is outside its validity period');
  if (parseUserName(tbs.userName).domain !== issuer.domain) throw unauthenticated('client credential names a user of another domain than its issuer');
  return tbs;
}
