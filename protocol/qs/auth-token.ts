// QsAuthToken: a client proves it owns a user record (PUID, user record auth key) or a client record
// (PCID, client record auth key). Beyond the spec's {sender, timestamp}, the token also covers a
// digest of the method name and the exact params bytes, so it authorizes one request only, and a
// nonce, so it is accepted once (replays within the window are refused by the actor, see replay.ts).
import { hs } from '../../schemas/index.js';
import { badRequest, unauthenticated } from '../errors.js';
import { constantTimeEqual, randomBytes, sha256, signLabelled, verifyLabelled } from '../crypto/index.js';
import { ID_BYTES } from './ids.js';

export const AUTH_TOKEN_LABEL = 'qs/auth-token';
const NONCE_BYTES = 16;

export type SenderKind = 'puid' | 'pcid';

export interface Sender {
  kind: SenderKind;
  id: Uint8Array;
}

export function requestDigest(method: string, params: Uint8Array): Uint8Array {
  const name = new TextEncoder().encode(`${method}\0`);
  const input = new Uint8Array(name.length + params.length);
  input.set(name);
  input.set(params, name.length);
  return sha256(input);
}

/** Builds a SignedRequest for `method` (client side). */
export function signRequest(sender: Sender, signingKey: Uint8Array, method: string, params: Uint8Array, nowMs = Date.now()): hs.qs.ISignedRequest {
  const tbs = hs.qs.QsAuthTokenTbs.encode({
    [sender.kind]: sender.id, timestampMs: nowMs, nonce: randomBytes(NONCE_BYTES), requestDigest: requestDigest(method, params),
  }).finish();
  return { auth: { tbs, signature: signLabelled(signingKey, AUTH_TOKEN_LABEL, tbs) }, params };
}

export interface TokenClaims {
  sender: Sender;
  timestampMs: number;
  tbs: hs.qs.QsAuthTokenTbs;
}

/** Decodes the token's claims without checking them: enough to route the request to its actor. */
export function readToken(request: hs.qs.ISignedRequest): TokenClaims {
  const tbsBytes = request.auth?.tbs;
  if (!tbsBytes || tbsBytes.length === 0) throw unauthenticated('a QsAuthToken is required');
  let tbs: hs.qs.QsAuthTokenTbs;
  try {
    tbs = hs.qs.QsAuthTokenTbs.decode(tbsBytes);
  } catch {
    throw badRequest('malformed QsAuthToken');
  }
  const kind = tbs.sender;
  if (kind !== 'puid' && kind !== 'pcid') throw badRequest('QsAuthToken names no sender');
  const id = tbs[kind]!;
  if (id.length !== ID_BYTES) throw badRequest(`QsAuthToken sender must be ${ID_BYTES} bytes`);
  return { sender: { kind, id }, timestampMs: tbs.timestampMs, tbs };
}

export interface TokenCheck {
  method: string;
  expected: Sender;
  verifyingKey: Uint8Array;
  nowMs: number;
  windowMs: number;
}

/** Verifies a SignedRequest's token for one method and sender; returns the token's replay id (to be
 *  checked and remembered by the caller) and when it stops mattering. Throws UNAUTHENTICATED. */
export function checkToken(request: hs.qs.ISignedRequest, check: TokenCheck): { tokenId: Uint8Array; expiresMs: number } {
  const claims = readToken(request);
  if (claims.sender.kind !== check.expected.kind || !constantTimeEqual(claims.sender.id, check.expected.id)) {
    throw unauthenticated(`this method needs a token for the ${check.expected.kind} it acts on`);
  }
  if (Math.abs(check.nowMs - claims.timestampMs) > check.windowMs) throw unauthenticated('QsAuthToken timestamp is outside the accepted window');
  if (claims.tbs.nonce.length !== NONCE_BYTES) throw unauthenticated('QsAuthToken nonce must be 16 bytes');
  const params = request.params ?? new Uint8Array();
  if (!constantTimeEqual(claims.tbs.requestDigest, requestDigest(check.method, params))) {
    throw unauthenticated('QsAuthToken does not cover this request');
  }
  const signature = request.auth?.signature ?? new Uint8Array();
  if (!verifyLabelled(check.verifyingKey, AUTH_TOKEN_LABEL, request.auth!.tbs!, signature)) throw unauthenticated('QsAuthToken signature does not verify');
  return { tokenId: sha256(request.auth!.tbs!).subarray(0, 16), expiresMs: claims.timestampMs + check.windowMs };
}
