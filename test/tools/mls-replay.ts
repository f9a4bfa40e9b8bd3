// npm run --silent mls:replay -- FILE.json
// Replays a passive-client vector file through the MLS public view: one JSON line per case, non-zero
// exit if any epoch is refused or diverges from the reference client.
import { readFileSync } from 'node:fs';
import { replayPassiveCase, type PassiveVector } from '../mls/helpers/passive.js';

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: npm run --silent mls:replay -- FILE.json');
  process.exit(2);
}
const cases = JSON.parse(readFileSync(file, 'utf8')) as PassiveVector[];
let failed = false;
for (const [i, v] of cases.entries()) {
  const r = await replayPassiveCase(v);
  console.log(JSON.stringify({ case: i, epochs: r.epochs, accepted: r.accepted }));
  if (r.failures.length > 0 || r.accepted !== r.epochs) {
    failed = true;
    console.error(JSON.stringify({ case: i, cipher_suite: v.cipher_suite, failures: r.failures }));
  }
}
process.exit(failed ? 1 : 0);
