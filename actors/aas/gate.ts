// The Privacy Pass gate the node puts in front of every `gated` method: one unspent type 2 token per
// request, in `Authorization: PrivateToken token=...` (RFC 9577). A refusal is UNAUTHENTICATED with a
// `WWW-Authenticate: PrivateToken challenge=..., token-key=...` header telling the client what to get.
import { GateRefusal, type RequestGate } from '../runtime/actor-kind.js';
import { ErrorCode } from '../../protocol/errors.js';
import { constantTimeEqual, sha256 } from '../../protocol/crypto/index.js';
import { challengeFor, challengeHeader, parseToken, tokenFromAuthorization } from '../../protocol/aas/token.js';
import type { IssuerKeyCache } from './issuer-cache.js';
import type { SpentTokens } from './spent-tokens.js';

export interface GateOptions {
  domain: string;
  keys: IssuerKeyCache;
  spent: SpentTokens;
}

export function privacyPassGate({ domain, keys, spent }: GateOptions): RequestGate {
  const challenge = challengeFor(domain);
  const challengeDigest = sha256(challenge);

  const refuse = async (message: string): Promise<GateRefusal> => {
    let headers = {};
    try {
      headers = { 'www-authenticate': challengeHeader(challenge, (await keys.current()).tokenKey) };
    } catch {
      // No key to advertise right now; the refusal itself still stands.
    }
    return new GateRefusal(ErrorCode.UNAUTHENTICATED, message, headers);
  };

  return async (request) => {
    const bytes = tokenFromAuthorization(request.header('authorization'));
    if (!bytes) throw await refuse('this endpoint needs a Privacy Pass token (Authorization: PrivateToken token=...)');
    const token = parseToken(bytes);
    if (!token) throw await refuse('the Privacy Pass token is malformed or not of type 2');
    if (!constantTimeEqual(token.challengeDigest, challengeDigest)) throw await refuse('the Privacy Pass token answers another challenge');
    const found = keys.accepted(token.tokenKeyId);
    const key = found instanceof Promise ? await found : found;
    if (!key) throw await refuse('the Privacy Pass token was issued under an unknown or retired key');
    if (!await key.verifier.verifyAsync(token)) throw await refuse('the Privacy Pass token signature is invalid');
    if (!await spent.spend(key.tokenKeyIdHex, token.nonce)) throw await refuse('the Privacy Pass token was already spent');
  };
}
