// Passes ava's TAP output through and ends it with one line "N passed, N failed". Exits non-zero
// when a test failed or when the output carried no counts (ava crashed before reporting).
import { createInterface } from 'node:readline';

const counts = {};
for await (const line of createInterface({ input: process.stdin })) {
  console.log(line);
  const match = /^# (pass|fail|skip|todo|tests)\s+(\d+)/.exec(line);
  if (match) counts[match[1]] = Number(match[2]);
}
const passed = counts.pass ?? 0;
const failed = counts.fail ?? 0;
const extra = [counts.skip ? `${counts.skip} skipped` : '', counts.todo ? `${counts.todo} todo` : ''].filter(Boolean);
console.log(`${passed} passed, ${failed} failed${extra.length ? ` (${extra.join(', ')})` : ''}`);
process.exit(failed === 0 && counts.pass !== undefined ? 0 : 1);
