// A pool of Privacy Pass tokens for one client: each gated request takes one; when the pool runs low it
// refills in the background (one issuance at a time), and when it is empty the request waits for the
// refill. Tokens whose key has retired are dropped unused.
import { authorizationHeader } from '../protocol/aas/token.js';
import { unavailable } from '../protocol/errors.js';
import type { AasClient } from './aas.js';
import type { ClientIdentity, TokenSource } from './as.js';

export interface TokenPoolOptions {
  /** Tokens asked for per issuance. */
  batch?: number;
  /** Refill in the background when this many or fewer are left. */
  lowWater?: number;
  now?: () => number;
}

export class TokenPool implements TokenSource {
  private tokens: { token: Uint8Array; retireAtMs: number }[] = [];
  private refilling: Promise<void> | undefined;
  private readonly batch: number;
  private readonly lowWater: number;
  private readonly now: () => number;

  constructor(private readonly aas: AasClient, private readonly identity: ClientIdentity, options: TokenPoolOptions = {}) {
    this.batch = options.batch ?? 50;
    this.lowWater = options.lowWater ?? Math.floor(this.batch / 4);
    this.now = options.now ?? Date.now;
  }

  /** Whether an issuance is in flight (e.g. a background refill). */
  get refillPending(): boolean {
    return this.refilling !== undefined;
  }

  /** Tokens still usable. */
  get size(): number {
    const now = this.now();
    return this.tokens.filter((entry) => entry.retireAtMs > now).length;
  }

  /** One unspent token; rejects with the issuer's typed error when none can be had (e.g. RATE_LIMITED). */
  async take(): Promise<Uint8Array> {
    // Concurrent takers share each refill, so one may find the batch already taken: try a few times.
    for (let attempt = 0; attempt < 3; attempt++) {
      const next = this.nextLive();
      if (next) {
        if (this.tokens.length <= this.lowWater) this.refill().catch(() => undefined); // retried on the next take
        return next;
      }
      await this.refill();
    }
    throw unavailable('the issuer granted no usable tokens');
  }

  private nextLive(): Uint8Array | undefined {
    const now = this.now();
    this.tokens = this.tokens.filter((entry) => entry.retireAtMs > now);
    return this.tokens.shift()?.token;
  }

  async authorization(): Promise<string> {
    return authorizationHeader(await this.take());
  }

  /** Fetches one batch; concurrent callers share the issuance in flight. */
  refill(): Promise<void> {
    this.refilling ??= this.aas.issueTokens(this.identity, this.batch)
      .then(({ tokens, retireAtMs }) => {
        for (const token of tokens) this.tokens.push({ token, retireAtMs });
      })
      .finally(() => { this.refilling = undefined; });
    return this.refilling;
  }
}
