// Every node's view of the issuer keys, read from aas_issuer_key: verifiers for the gate, the current
// signer for issuance. Known keys are answered from memory (the gate's hot path never touches the
// database); an unknown key id triggers at most one reload per second, so foreign or forged key ids
// cannot make the gate hammer the database.
import type { MikroORM } from '@mikro-orm/core';
import type { OperatorKey } from '../runtime/operator-key.js';
import type { ActorClient } from '../../transport/envelope.js';
import { hs } from '../../schemas/index.js';
import { unavailable } from '../../protocol/errors.js';
import { BlindSigner, TokenVerifier } from '../../protocol/aas/token.js';
import { ISSUER_KEY, ISSUER_SEAL_PURPOSE } from './issuer.js';

export interface CachedKey {
  tokenKey: Uint8Array;
  tokenKeyId: Uint8Array;
  tokenKeyIdHex: string;
  notBeforeMs: number;
  issueUntilMs: number;
  retireAtMs: number;
  verifier: TokenVerifier;
  sealedPrivateKey: Uint8Array;
  signer?: BlindSigner;
}

interface Row {
  token_key_id: string;
  token_key: Buffer;
  sealed_private_key: Buffer;
  not_before_ms: number | string;
  issue_until_ms: number | string;
  retire_at_ms: number | string;
}

const UNKNOWN_KEY_RELOAD_MS = 1000;

export class IssuerKeyCache {
  private keys = new Map<string, CachedKey>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly actors: ActorClient,
    private readonly operatorKey: OperatorKey,
    private readonly now: () => number,
  ) {}

  /** The key that issues now, creating or rotating it through the issuer actor when needed. */
  async current(): Promise<CachedKey> {
    let key = this.issuing();
    if (key) return key;
    await this.reload();
    key = this.issuing();
    if (key) return key;
    await this.actors.call('aas', ISSUER_KEY, 'GetIssuerKeys', hs.aas.GetIssuerKeysRequest.encode({}).finish());
    await this.reload();
    key = this.issuing();
    if (!key) throw unavailable('no issuer key is available');
    return key;
  }

  /** The key with this id if it is still accepted at `now`. Answered from memory, without a promise,
   *  when the id is known (the gate's hot path); a promise only when it is unknown and a reload is due. */
  accepted(tokenKeyId: Uint8Array): CachedKey | undefined | Promise<CachedKey | undefined> {
    const key = this.find(tokenKeyId);
    if (key || Date.now() - this.loadedAt < UNKNOWN_KEY_RELOAD_MS) return this.stillAccepted(key);
    return this.reload().then(() => this.stillAccepted(this.find(tokenKeyId)));
  }

  private find(tokenKeyId: Uint8Array): CachedKey | undefined {
    // A handful of keys at most (one issuing, the previous ones until they retire).
    for (const key of this.keys.values()) if (Buffer.compare(key.tokenKeyId, tokenKeyId) === 0) return key;
    return undefined;
  }

  private stillAccepted(key: CachedKey | undefined): CachedKey | undefined {
    return key && this.now() < key.retireAtMs ? key : undefined;
  }

  signer(key: CachedKey): BlindSigner {
    key.signer ??= new BlindSigner(this.operatorKey.open(ISSUER_SEAL_PURPOSE, key.sealedPrivateKey), key.tokenKeyId);
    return key.signer;
  }

  private issuing(): CachedKey | undefined {
    const now = this.now();
    let best: CachedKey | undefined;
    for (const key of this.keys.values()) {
      if (key.notBeforeMs <= now && now < key.issueUntilMs && (!best || key.notBeforeMs > best.notBeforeMs)) best = key;
    }
    return best;
  }

  private reload(): Promise<void> {
    this.loading ??= this.load().finally(() => { this.loading = undefined; });
    return this.loading;
  }

  private async load(): Promise<void> {
    const rows = await this.orm.em.getConnection().execute<Row[]>(
      'select token_key_id, token_key, sealed_private_key, not_before_ms, issue_until_ms, retire_at_ms from aas_issuer_key');
    const next = new Map<string, CachedKey>();
    for (const row of rows) {
      const known = this.keys.get(row.token_key_id);
      const tokenKey = new Uint8Array(row.token_key);
      next.set(row.token_key_id, known ?? {
        tokenKey, tokenKeyId: new Uint8Array(Buffer.from(row.token_key_id, 'hex')), tokenKeyIdHex: row.token_key_id,
        notBeforeMs: Number(row.not_before_ms), issueUntilMs: Number(row.issue_until_ms), retireAtMs: Number(row.retire_at_ms),
        verifier: new TokenVerifier(tokenKey), sealedPrivateKey: new Uint8Array(row.sealed_private_key),
      });
    }
    this.keys = next;
    this.loadedAt = Date.now();
  }
}
