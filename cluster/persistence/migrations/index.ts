// Every committed migration, in order. Listed explicitly so no file discovery happens at start-up.
import { Migration0001ActorSnapshots } from './0001-actor-snapshots.js';
import { Migration0100QsTables } from './0100-qs-tables.js';
import { Migration0101QsQueueHead } from './0101-qs-queue-head.js';
import { Migration0102ByteOrderKeys } from './0102-byte-order-keys.js';
import { Migration0200AsAasTables } from './0200-as-aas-tables.js';

export const migrationsList = [
  { name: '0001-actor-snapshots', class: Migration0001ActorSnapshots },
  { name: '0100-qs-tables', class: Migration0100QsTables },
  { name: '0101-qs-queue-head', class: Migration0101QsQueueHead },
  { name: '0102-byte-order-keys', class: Migration0102ByteOrderKeys },
  { name: '0200-as-aas-tables', class: Migration0200AsAasTables },
];
