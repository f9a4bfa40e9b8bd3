// Worker threads do not inherit the main thread's loader hooks, so a node run from its TypeScript
// sources (through tsx) starts its threads here: register tsx in this thread, then load the entry
// module named in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
