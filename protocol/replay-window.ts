// One actor's memory of the single-use values it has accepted (QsAuthToken ids, AS request nonces),
// kept in its snapshot until each could no longer pass its timestamp check anyway, so a replay inside
// the window is refused even after passivation or a restart. Bounded: a signer who floods one actor
// with fresh requests is slowed down instead of growing its snapshot without limit.
import { ErrorCode, HsError, unauthenticated } from './errors.js';
import { constantTimeEqual } from './crypto/index.js';

export interface SeenValue {
  id: Uint8Array;
  /** After this the value fails its timestamp check, so it need not be remembered. */
  expiresMs: number;
}

/** At most this many values per actor inside one window. */
export const MAX_SEEN_VALUES = 2000;

/** Returns `seen` without expired values and with `id` added. Throws UNAUTHENTICATED for a replay and
 *  RATE_LIMITED when the window is full. `what` names the value in the error. */
export function rememberOnce(seen: readonly SeenValue[], id: Uint8Array, expiresMs: number, nowMs: number, what: string): SeenValue[] {
  const live = seen.filter((entry) => entry.expiresMs >= nowMs);
  if (live.some((entry) => constantTimeEqual(entry.id, id))) throw unauthenticated(`${what} was already used (replay)`);
  if (live.length >= MAX_SEEN_VALUES) throw new HsError(ErrorCode.RATE_LIMITED, `too many signed requests to this record within ${what} validity; retry shortly`);
  live.push({ id, expiresMs });
  return live;
}

/** The list as decoded from a snapshot's protobuf (whose fields are optional on the type). */
export function seenFromWire(entries: readonly { id?: Uint8Array | null; expiresMs?: number | null }[]): SeenValue[] {
  return entries.map((entry) => ({ id: entry.id ?? new Uint8Array(), expiresMs: Number(entry.expiresMs ?? 0) }));
}
