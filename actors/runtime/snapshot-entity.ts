// One row per persisted actor: its kind, key, encoded state and the optimistic-lock version.
import { defineEntity, p } from '@mikro-orm/core';

export const ActorSnapshot = defineEntity({
  name: 'ActorSnapshot',
  tableName: 'actor_snapshot',
  properties: {
    kind: p.string().length(64).primary(),
    key: p.string().length(512).primary(),
    // Incremented by every write; a writer whose expected version is stale is fenced out.
    version: p.integer(),
    data: p.blob(),
    updatedAt: p.datetime(),
  },
});
