// Token issuance (actor key: the client id). A client proves who it is with a request signed by its
// client credential key, which its AS user actor verifies (and records against replay); the actor
// then signs up to the client's remaining allowance for the current timeframe. The allowance refills
// when a timeframe has passed since the previous one began.
import { hs } from '../../schemas/index.js';
import { methodsOf, type ActorKind } from '../runtime/actor-kind.js';
import type { ActorClient } from '../../transport/envelope.js';
import { badRequest, ErrorCode, HsError, preconditionFailed } from '../../protocol/errors.js';
import { constantTimeEqual } from '../../protocol/crypto/index.js';
import { claimedSigner } from '../../protocol/as/client-auth.js';
import { clientIdOf } from '../../protocol/as/names.js';
import type { AasSettings } from '../as/settings.js';
import type { IssuerKeyCache } from './issuer-cache.js';

export const ISSUE_METHOD = 'aas/IssueTokens';

interface State {
  timeframeStartMs: number;
  issued: number;
}

export interface AllowanceKindOptions {
  settings: AasSettings;
  actors: ActorClient;
  keys: IssuerKeyCache;
  now: () => number;
}

export function allowanceKind(options: AllowanceKindOptions): ActorKind<State> {
  const { settings } = options;
  const method = methodsOf<State>();
  return {
    name: 'aas-allowance',
    initialState: () => ({ timeframeStartMs: 0, issued: 0 }),
    encodeState: (state) => hs.aas.AllowanceState.encode(state).finish(),
    decodeState: (data) => {
      const wire = hs.aas.AllowanceState.decode(data);
      return { timeframeStartMs: wire.timeframeStartMs, issued: wire.issued };
    },
    methods: {
      IssueTokens: method({
        access: 'public',
        request: hs.as.SignedRequest, response: hs.aas.IssueTokensReply,
        keyOf: (request) => {
          const claimed = claimedSigner(request.request);
          return clientIdOf(claimed.userName, claimed.clientUuid);
        },
        handle: async (state, request) => {
          const claimed = claimedSigner(request.request);
          const authenticated = hs.as.AuthenticateClientReply.decode(await options.actors.call('as', claimed.userName, 'AuthenticateClient',
            hs.as.AuthenticateClientRequest.encode({ request: request.request, expectedMethod: ISSUE_METHOD }).finish()));
          let payload: hs.aas.IssueTokensPayload;
          try {
            payload = hs.aas.IssueTokensPayload.decode(authenticated.payload);
          } catch {
            throw badRequest('malformed IssueTokens payload');
          }
          const requests = payload.tokenRequests;
          if (requests.length === 0 || requests.length > settings.maxBatch) throw badRequest(`request from 1 to ${settings.maxBatch} tokens at a time`);
          const now = options.now();
          const next = now >= state.timeframeStartMs + settings.timeframeMs ? { timeframeStartMs: now, issued: 0 } : { ...state };
          const timeframeEndsMs = next.timeframeStartMs + settings.timeframeMs;
          const remaining = settings.allowance - next.issued;
          if (remaining <= 0) {
            throw new HsError(ErrorCode.RATE_LIMITED, `token allowance used up until ${new Date(timeframeEndsMs).toISOString()}`);
          }
          const key = await options.keys.current();
          if (!constantTimeEqual(payload.tokenKeyId, key.tokenKeyId)) throw preconditionFailed('the issuer key has rotated; fetch the issuer keys and blind again');
          const signer = options.keys.signer(key);
          const granted = requests.slice(0, remaining);
          const tokenResponses = granted.map((tokenRequest) => signer.sign(tokenRequest));
          next.issued += granted.length;
          return { reply: { tokenResponses, remaining: settings.allowance - next.issued, timeframeEndsMs }, state: next };
        },
      }),
    },
  };
}
