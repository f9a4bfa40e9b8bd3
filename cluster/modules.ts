// The modules a production node serves. The AS, AAS, QS and DS modules register here as they land.
import type { ModuleFactory } from '../actors/runtime/actor-kind.js';

export const productionModules: readonly ModuleFactory[] = [];
