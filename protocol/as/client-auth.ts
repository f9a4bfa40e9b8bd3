// Client-signed requests: the client signs {who, method, timestamp, nonce, payload} with its credential
// key. The verifier checks the signature against the client's registered key, refuses timestamps
// outside a window around its clock, and refuses a nonce it has already seen within that window.
import { hs } from '../../schemas/index.js';
import { unauthenticated } from '../errors.js';
import { randomBytes } from '../crypto/index.js';
import { decodeTbs, Label, signatureValid, signStructure } from './signed.js';

/** How far a request's timestamp may be from the verifier's clock, either way. */
export const REQUEST_WINDOW_MS = 60_000;
export const NONCE_BYTES = 16;

export interface ClientSigner {
  userName: string;
  clientUuid: string;
  privateKey: Uint8Array;
}

export function signRequest(signer: ClientSigner, method: string, payload: Uint8Array, now: number): hs.as.ISigned {
  const tbs = { userName: signer.userName, clientUuid: signer.clientUuid, method, timestampMs: now, nonce: randomBytes(NONCE_BYTES), payload };
  return signStructure(hs.as.ClientRequestTbs, tbs, Label.clientRequest, signer.privateKey);
}

/** Reads who claims to have signed, before the signature is checked (to route to their actor). */
export function claimedSigner(request: hs.as.ISigned | null | undefined): hs.as.ClientRequestTbs {
  const tbs = decodeTbs(hs.as.ClientRequestTbs, request);
  if (!tbs) throw unauthenticated('signed request is missing or malformed');
  return tbs;
}

/**
 * Verifies a signed request for `method` under `verifyingKey`, at time `now`. Throws UNAUTHENTICATED.
 * Replays are the caller's to refuse: it remembers each accepted nonce until `timestamp +
 * REQUEST_WINDOW_MS` (protocol/replay-window.ts).
 */
export function verifyRequest(
  request: hs.as.ISigned | null | undefined, method: string, verifyingKey: Uint8Array, now: number,
): hs.as.ClientRequestTbs {
  const tbs = claimedSigner(request);
  if (!signatureValid(request!, Label.clientRequest, verifyingKey)) throw unauthenticated('request signature is invalid');
  if (tbs.method !== method) throw unauthenticated(`request was signed for ${tbs.method}, not ${method}`);
  if (Math.abs(now - tbs.timestampMs) > REQUEST_WINDOW_MS) throw unauthenticated('request timestamp is outside the accepted window; check the clock');
  if (tbs.nonce.length !== NONCE_BYTES) throw unauthenticated(`request nonce must be ${NONCE_BYTES} bytes`);
  return tbs;
}
