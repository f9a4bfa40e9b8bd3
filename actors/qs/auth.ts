// The common first step of every QsAuthToken-authenticated method: check the token for this method
// and sender, refuse a replay, and decode the params the token covers.
import { hs } from '../../schemas/index.js';
import { badRequest } from '../../protocol/errors.js';
import { checkToken, readToken, type Sender } from '../../protocol/qs/auth-token.js';
import { idKey } from '../../protocol/qs/ids.js';
import { rememberOnce, type SeenValue } from '../../protocol/replay-window.js';

export interface ParamsType<P> {
  decode(bytes: Uint8Array): P;
}

export interface Authenticated<P> {
  params: P;
  /** The actor's seen-token list including this token: store it with the new state. */
  seenTokens: SeenValue[];
}

export function authenticate<P>(
  request: hs.qs.SignedRequest, method: string, expected: Sender, verifyingKey: Uint8Array,
  seenTokens: readonly SeenValue[], windowMs: number, paramsType: ParamsType<P>,
): Authenticated<P> {
  const nowMs = Date.now();
  const { tokenId, expiresMs } = checkToken(request, { method, expected, verifyingKey, nowMs, windowMs });
  const seen = rememberOnce(seenTokens, tokenId, expiresMs, nowMs, 'QsAuthToken');
  let params: P;
  try {
    params = paramsType.decode(request.params);
  } catch (error) {
    throw badRequest(`malformed ${method} params: ${(error as Error).message}`);
  }
  return { params, seenTokens: seen };
}

/** keyOf for signed requests: the actor named by the token's sender. */
export function senderKey(kind: Sender['kind']) {
  return (request: hs.qs.SignedRequest): string => {
    const { sender } = readToken(request);
    if (sender.kind !== kind) throw badRequest(`this method needs a QsAuthToken for a ${kind}`);
    return idKey(sender.id);
  };
}
