// The modules a production node serves. The AS, AAS, QS and DS modules register here as they land.
import type { ModuleFactory } from '../actors/runtime/actor-kind.js';
import { aasModule } from '../actors/aas/module.js';
import { asModule } from '../actors/as/module.js';
import { qsModule } from '../actors/qs/module.js';

export const productionModules: readonly ModuleFactory[] = [asModule, aasModule, qsModule];
