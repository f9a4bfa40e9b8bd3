// The Anonymous Authentication Service module: the issuer (keys and rotation), per-client allowances
// (issuance), and the Privacy Pass gate the node puts in front of every gated method.
import { exportedModule, type ModuleDefinition, type ModuleDeps, type ModuleFactory } from '../runtime/actor-kind.js';
import { readAasSettings } from '../as/settings.js';
import { allowanceKind } from './allowance.js';
import { privacyPassGate } from './gate.js';
import { IssuerKeyCache } from './issuer-cache.js';
import { issuerKind } from './issuer.js';
import { SpentTokens } from './spent-tokens.js';

export interface AasModuleOptions {
  /** The clock for allowances and key epochs (tests inject one). */
  now?: () => number;
}

export function createAasModule(moduleOptions: AasModuleOptions = {}): ModuleFactory {
  return (deps: ModuleDeps): ModuleDefinition => {
    const settings = readAasSettings(deps.env);
    const operatorKey = deps.operatorKey();
    const now = moduleOptions.now ?? Date.now;
    const keys = new IssuerKeyCache(deps.orm, deps.actors, operatorKey, now);
    return {
      name: 'aas',
      kinds: [
        issuerKind({ domain: deps.domain, settings, operatorKey, now }),
        allowanceKind({ settings, actors: deps.actors, keys, now }),
      ],
      gate: privacyPassGate({ domain: deps.domain, keys, spent: new SpentTokens(deps.orm, settings.redeemBatchMs) }),
    };
  };
}

export const aasModule: ModuleFactory = exportedModule(createAasModule(), import.meta.url, 'aasModule');
