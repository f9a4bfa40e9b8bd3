// The routing table "<module>/<Method>" -> (actor kind, method), built once from module definitions
// and shared by the runtime (to dispatch) and the gateway (to decode requests and find their key).
import type { ActorKind, ActorMethod, ModuleDefinition } from './actor-kind.js';

export interface ResolvedMethod {
  module: string;
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  kind: ActorKind<any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  method: ActorMethod<any, any, any>;
}

export class MethodTable {
  /** By module, then method name: no route string to build on each call. */
  private readonly routes = new Map<string, Map<string, ResolvedMethod>>();

  constructor(readonly modules: readonly ModuleDefinition[]) {
    const kinds = new Set<string>();
    for (const module of modules) {
      for (const kind of module.kinds) {
        if (kinds.has(kind.name)) throw new Error(`actor kind ${kind.name} is defined twice`);
        kinds.add(kind.name);
        let methods = this.routes.get(module.name);
        if (!methods) this.routes.set(module.name, (methods = new Map()));
        for (const [name, method] of Object.entries(kind.methods)) {
          if (methods.has(name)) throw new Error(`method ${module.name}/${name} is defined twice`);
          methods.set(name, { module: module.name, name, kind, method });
        }
      }
    }
  }

  resolve(module: string, method: string): ResolvedMethod | undefined {
    return this.routes.get(module)?.get(method);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  kinds(): ActorKind<any>[] {
    return this.modules.flatMap((module) => module.kinds);
  }
}
