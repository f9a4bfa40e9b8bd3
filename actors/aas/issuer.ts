// The AAS issuer actor (key "issuer"): the one writer of issuer keys. Each key epoch issues tokens for
// one rotation period and is accepted for two, so tokens fetched just before a rotation stay usable for
// a full period. A retired key is deleted with the nonces of the tokens spent under it: those tokens
// fail the key check from then on, so their nonces no longer need remembering. Keys are mirrored into
// aas_issuer_key (private halves sealed under the operator key) for every node's gate and signers.
import { hs } from '../../schemas/index.js';
import { methodsOf, type ActorKind, type SqlStatement } from '../runtime/actor-kind.js';
import type { OperatorKey } from '../runtime/operator-key.js';
import { challengeFor, generateIssuerKey } from '../../protocol/aas/token.js';
import { toHex } from '../../protocol/crypto/index.js';
import type { AasSettings } from '../as/settings.js';

export const ISSUER_KEY = 'issuer';
export const ISSUER_SEAL_PURPOSE = 'aas-issuer-key';

interface EpochKey {
  epoch: number;
  tokenKey: Uint8Array;
  tokenKeyId: Uint8Array;
  notBeforeMs: number;
  issueUntilMs: number;
  retireAtMs: number;
}

interface State {
  keys: EpochKey[];
  nextEpoch: number;
}

export interface IssuerKindOptions {
  domain: string;
  settings: AasSettings;
  operatorKey: OperatorKey;
  now: () => number;
}


/** Retires expired keys and starts a new epoch when none issues at `now`; returns the SQL to mirror it. */
function rotate(state: State, now: number, options: IssuerKindOptions): SqlStatement[] {
  const records: SqlStatement[] = [];
  for (const key of state.keys.filter((entry) => entry.retireAtMs <= now)) {
    records.push({ sql: 'delete from aas_spent_token where token_key_id = ?', params: [toHex(key.tokenKeyId)] });
    records.push({ sql: 'delete from aas_issuer_key where epoch = ?', params: [key.epoch] });
  }
  state.keys = state.keys.filter((entry) => entry.retireAtMs > now);
  if (!state.keys.some((entry) => entry.notBeforeMs <= now && now < entry.issueUntilMs)) {
    const material = generateIssuerKey();
    const period = options.settings.keyRotationMs;
    const key: EpochKey = {
      epoch: state.nextEpoch++, tokenKey: material.tokenKey, tokenKeyId: material.tokenKeyId,
      notBeforeMs: now, issueUntilMs: now + period, retireAtMs: now + 2 * period,
    };
    state.keys.push(key);
    records.push({
      sql: 'insert into aas_issuer_key (epoch, token_key_id, token_key, sealed_private_key, not_before_ms, issue_until_ms, retire_at_ms) values (?, ?, ?, ?, ?, ?, ?)',
      params: [key.epoch, toHex(key.tokenKeyId), Buffer.from(key.tokenKey), Buffer.from(options.operatorKey.seal(ISSUER_SEAL_PURPOSE, material.privateKeyDer)),
        key.notBeforeMs, key.issueUntilMs, key.retireAtMs],
    });
  }
  return records;
}

export function issuerKind(options: IssuerKindOptions): ActorKind<State> {
  const challenge = challengeFor(options.domain);
  const method = methodsOf<State>();
  return {
    name: 'aas-issuer',
    initialState: () => ({ keys: [], nextEpoch: 1 }),
    encodeState: (state) => hs.aas.IssuerState.encode({
      nextEpoch: state.nextEpoch,
      keys: state.keys.map(({ epoch, ...key }) => ({ epoch, key })),
    }).finish(),
    decodeState: (data) => {
      const wire = hs.aas.IssuerState.decode(data);
      return {
        nextEpoch: wire.nextEpoch,
        keys: wire.keys.map((entry) => ({
          epoch: entry.epoch ?? 0, tokenKey: entry.key?.tokenKey ?? new Uint8Array(), tokenKeyId: entry.key?.tokenKeyId ?? new Uint8Array(),
          notBeforeMs: entry.key?.notBeforeMs ?? 0, issueUntilMs: entry.key?.issueUntilMs ?? 0, retireAtMs: entry.key?.retireAtMs ?? 0,
        })),
      };
    },
    methods: {
      /** The public key endpoint; also where rotation happens, lazily, when anyone asks. */
      GetIssuerKeys: method({
        access: 'public',
        request: hs.aas.GetIssuerKeysRequest, response: hs.aas.IssuerKeysReply, keyOf: () => ISSUER_KEY,
        handle: (state) => {
          const records = rotate(state, options.now(), options);
          const keys = [...state.keys].sort((a, b) => b.notBeforeMs - a.notBeforeMs).map(({ epoch: _epoch, ...key }) => key);
          const reply = { keys, issuerName: options.domain, challenge };
          return records.length > 0 ? { reply, state, records } : { reply };
        },
      }),
    },
  };
}
