// Tokens already accepted by one actor, kept (in its snapshot) until their window closes, so a token
// replayed within its window is refused even after the actor was passivated or the node restarted.
import { hs } from '../../schemas/index.js';
import { unauthenticated } from '../errors.js';
import { constantTimeEqual } from '../crypto/index.js';

/** Returns the list with `tokenId` added and expired entries dropped; throws if it was already there. */
export function rememberToken(seen: readonly hs.qs.ISeenToken[], tokenId: Uint8Array, expiresMs: number, nowMs: number): hs.qs.ISeenToken[] {
  const live = seen.filter((entry) => Number(entry.expiresMs) >= nowMs);
  if (live.some((entry) => entry.id && constantTimeEqual(entry.id, tokenId))) throw unauthenticated('QsAuthToken was already used');
  live.push({ id: tokenId, expiresMs });
  return live;
}
