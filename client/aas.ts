// The SDK's AAS calls: the issuer keys and token issuance (blinding, a client-signed issuance request,
// unblinding and verifying each token).
import { hs } from '../schemas/index.js';
import { ErrorCode, HsError, unauthenticated } from '../protocol/errors.js';
import { constantTimeEqual, sha256 } from '../protocol/crypto/index.js';
import { signRequest } from '../protocol/as/client-auth.js';
import { TokenBlinder } from '../protocol/aas/blind.js';
import { challengeFor } from '../protocol/aas/token.js';
import type { ClientIdentity } from './as.js';
import type { HomeserverHttp } from './http.js';

export interface IssuedTokens {
  tokens: Uint8Array[];
  /** When the key they were issued under retires (the server refuses them from then on). */
  retireAtMs: number;
  /** Allowance left in the current timeframe. */
  remaining: number;
}

export class AasClient {
  private keys: { reply: hs.aas.IssuerKeysReply; blinder: TokenBlinder; challengeDigest: Uint8Array } | undefined;

  constructor(readonly http: HomeserverHttp, private readonly now: () => number = Date.now) {}

  async issuerKeys(refresh = false): Promise<hs.aas.IssuerKeysReply> {
    return (await this.currentKey(refresh)).reply;
  }

  /** Obtains up to `count` tokens (the server may grant fewer near the end of the allowance). */
  async issueTokens(identity: ClientIdentity, count: number): Promise<IssuedTokens> {
    try {
      return await this.issueOnce(identity, count, false);
    } catch (error) {
      // The key rotated since it was fetched: blind again for the new one.
      if (error instanceof HsError && error.code === ErrorCode.PRECONDITION_FAILED) return this.issueOnce(identity, count, true);
      throw error;
    }
  }

  private async issueOnce(identity: ClientIdentity, count: number, refresh: boolean): Promise<IssuedTokens> {
    const { reply: keys, blinder, challengeDigest } = await this.currentKey(refresh);
    const blinded = blinder.blindMany(challengeDigest, count);
    const payload = hs.aas.IssueTokensPayload.encode({ tokenKeyId: blinder.tokenKeyId, tokenRequests: blinded.map((entry) => entry.request) }).finish();
    const request = signRequest({ userName: identity.userName, clientUuid: identity.clientUuid, privateKey: identity.signingKey.privateKey }, 'aas/IssueTokens', payload, this.now());
    const reply = await this.http.call('aas', 'IssueTokens', hs.as.SignedRequest, hs.aas.IssueTokensReply, { request });
    if (reply.tokenResponses.length > blinded.length) throw unauthenticated('the issuer answered more token requests than were sent');
    const tokens = reply.tokenResponses.map((response, i) => blinder.finalize(blinded[i]!.pending, response));
    return { tokens, retireAtMs: keys.keys[0]!.retireAtMs ?? 0, remaining: reply.remaining };
  }

  private async currentKey(refresh: boolean): Promise<NonNullable<AasClient['keys']>> {
    if (!this.keys || refresh || (this.keys.reply.keys[0]?.issueUntilMs ?? 0) <= this.now()) {
      const reply = await this.http.call('aas', 'GetIssuerKeys', hs.aas.GetIssuerKeysRequest, hs.aas.IssuerKeysReply, {});
      const newest = reply.keys[0];
      // The challenge must be this issuer's own, or tokens would be linkable across challenges.
      if (!newest?.tokenKey || !constantTimeEqual(reply.challenge, challengeFor(reply.issuerName))) throw unauthenticated('the issuer keys reply is malformed');
      this.keys = { reply, blinder: new TokenBlinder(newest.tokenKey), challengeDigest: sha256(reply.challenge) };
    }
    return this.keys;
  }
}
