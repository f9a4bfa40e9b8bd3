// The AS keyring: one actor (key "keyring") holding the AS credential and its intermediates, private
// keys sealed under the operator key. It creates them on first use, starts a new intermediate when the
// newest has used up half its lifetime, drops expired ones, and signs client credentials for CSRs the
// user actors have already verified.
import { hs } from '../../schemas/index.js';
import { methodsOf, type ActorKind } from '../runtime/actor-kind.js';
import type { OperatorKey } from '../runtime/operator-key.js';
import { createAsCredential, createIntermediateCredential, issueClientCredential, type SigningCredential } from '../../protocol/as/credentials.js';
import { badRequest } from '../../protocol/errors.js';
import type { AsSettings } from './settings.js';

export const KEYRING_KEY = 'keyring';
const SEAL_PURPOSE = 'as-signing-key';

type State = hs.as.KeyringState;

export interface KeyringOptions {
  domain: string;
  settings: AsSettings;
  operatorKey: OperatorKey;
  now: () => number;
}

const validity = (entry: hs.as.IKeyringEntry, type: typeof hs.as.AsCredentialTbs | typeof hs.as.AsIntermediateCredentialTbs) =>
  type.decode(entry.credential!.tbs!) as { notBeforeMs: number; notAfterMs: number };

export function keyringKind(options: KeyringOptions): ActorKind<State> {
  const { operatorKey, settings } = options;
  const seal = (credential: SigningCredential): hs.as.IKeyringEntry => ({ credential: credential.credential, sealedPrivateKey: operatorKey.seal(SEAL_PURPOSE, credential.privateKey) });
  const unseal = (entry: hs.as.IKeyringEntry): SigningCredential => ({ credential: entry.credential!, privateKey: operatorKey.open(SEAL_PURPOSE, entry.sealedPrivateKey!) });

  /** Brings the keyring up to date at `now`; returns whether anything changed. */
  function refresh(state: State, now: number): boolean {
    let changed = false;
    if (!state.root || validity(state.root, hs.as.AsCredentialTbs).notAfterMs <= now) {
      // A root that expired takes its intermediates with it; clients re-fetch credentials.
      state.root = hs.as.KeyringEntry.fromObject(seal(createAsCredential(options.domain, now, settings.asCredentialLifetimeMs)));
      state.intermediates = [];
      changed = true;
    }
    const live = state.intermediates.filter((entry) => validity(entry, hs.as.AsIntermediateCredentialTbs).notAfterMs > now);
    if (live.length !== state.intermediates.length) changed = true;
    const newest = live[live.length - 1];
    const newestValidity = newest && validity(newest, hs.as.AsIntermediateCredentialTbs);
    if (!newestValidity || newestValidity.notAfterMs - now < (newestValidity.notAfterMs - newestValidity.notBeforeMs) / 2) {
      live.push(hs.as.KeyringEntry.fromObject(seal(createIntermediateCredential(unseal(state.root), now, settings.intermediateLifetimeMs))));
      changed = true;
    }
    state.intermediates = live;
    return changed;
  }

  const method = methodsOf<State>();
  return {
    name: 'as-keyring',
    initialState: () => hs.as.KeyringState.create(),
    encodeState: (state) => hs.as.KeyringState.encode(state).finish(),
    decodeState: (data) => hs.as.KeyringState.decode(data),
    methods: {
      GetAsCredentials: method({
        access: 'public',
        request: hs.as.GetAsCredentialsRequest, response: hs.as.AsCredentialsReply, keyOf: () => KEYRING_KEY,
        handle: (state) => {
          const changed = refresh(state, options.now());
          const reply = { asCredentials: [state.root!.credential!], asIntermediateCredentials: state.intermediates.map((entry) => entry.credential!) };
          return changed ? { reply, state } : { reply };
        },
      }),
      SignClientCredential: method({
        access: 'internal',
        request: hs.as.SignClientCredentialRequest, response: hs.as.ClientCredentialReply, keyOf: () => KEYRING_KEY,
        handle: (state, request) => {
          const now = options.now();
          const changed = refresh(state, now);
          let csr: hs.as.ClientCsrTbs;
          try {
            csr = hs.as.ClientCsrTbs.decode(request.csrTbs);
          } catch {
            throw badRequest('malformed CSR');
          }
          const issuer = unseal(state.intermediates[state.intermediates.length - 1]!);
          const reply = { clientCredential: issueClientCredential(csr, issuer, now, settings.clientCredentialLifetimeMs) };
          return changed ? { reply, state } : { reply };
        },
      }),
    },
  };
}
