// The Authentication Service module: the keyring singleton and one actor per user.
import { exportedModule, type ModuleDefinition, type ModuleDeps, type ModuleFactory } from '../runtime/actor-kind.js';
import { keyringKind } from './keyring.js';
import { readAsSettings } from './settings.js';
import { userKind } from './user.js';

export interface AsModuleOptions {
  /** The clock for credential validity and request timestamps (tests inject one). */
  now?: () => number;
}

export function createAsModule(moduleOptions: AsModuleOptions = {}): ModuleFactory {
  return (deps: ModuleDeps): ModuleDefinition => {
    const settings = readAsSettings(deps.env);
    const operatorKey = deps.operatorKey();
    const now = moduleOptions.now ?? Date.now;
    return {
      name: 'as',
      kinds: [
        keyringKind({ domain: deps.domain, settings, operatorKey, now }),
        userKind({ domain: deps.domain, settings, actors: deps.actors, orm: deps.orm, now }),
      ],
    };
  };
}

export const asModule: ModuleFactory = exportedModule(createAsModule(), import.meta.url, 'asModule');
