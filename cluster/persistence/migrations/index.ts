// Every committed migration, in order. Listed explicitly so no file discovery happens at start-up.
import { Migration0001ActorSnapshots } from './0001-actor-snapshots.js';

export const migrationsList = [
  { name: '0001-actor-snapshots', class: Migration0001ActorSnapshots },
];
