// Shared body of the two passive-client vector tests (one file each, so ava runs them in parallel).
// Every case of every suite goes through the view; the ts-mls reference client follows the suite-1
// cases (the DS profile). `npm run mls:replay` compares all suites.
import type { ExecutionContext } from 'ava';
import { replayPassiveCase, type PassiveVector } from './passive.js';
import { loadVectors } from './vectors.js';

export async function replayFile(t: ExecutionContext, file: string): Promise<void> {
  const cases = loadVectors<PassiveVector>(file);
  let epochs = 0;
  let compared = 0;
  let joins = 0;
  for (const [i, v] of cases.entries()) {
    const r = await replayPassiveCase(v, v.cipher_suite === 1);
    t.deepEqual(r.failures, [], `case ${i} (suite ${v.cipher_suite})`);
    t.is(r.accepted, r.epochs, `case ${i}`);
    epochs += r.epochs;
    compared += r.compared;
    if (r.joinCompared) joins++;
  }
  t.log(`${cases.length} cases, ${joins} joins and ${epochs} epochs, of which ${compared} epochs compared with ts-mls`);
  t.true(cases.length > 0);
  t.true(joins > 0, 'the reference client joined some groups');
  if (epochs > 0) t.true(compared > 0, 'the reference client followed some epochs');
}
