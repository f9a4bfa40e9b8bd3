// Generates static protobufjs code (ESM + .d.ts) for every .proto in a folder. Run by `npm run
// gen:schemas` and on install; the output folders are not committed and never edited by hand.
// 64-bit integer fields are generated as plain numbers (--force-number): no Long objects anywhere.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundles = [
  // Separate protobufjs roots: generated code finds nested types through its root object.
  { from: 'schemas', to: 'schemas/generated/proto.js', root: 'default' },
  { from: 'test/fixtures', to: 'test/generated/proto.js', root: 'testing' },
];
const pbjs = join(root, 'node_modules', 'protobufjs-cli', 'bin', 'pbjs');

for (const { from, to, root: rootName } of bundles) {
  const dir = join(root, from);
  if (!existsSync(dir)) continue;
  const files = readdirSync(dir).filter((f) => f.endsWith('.proto')).sort().map((f) => join(dir, f));
  if (files.length === 0) continue;
  mkdirSync(dirname(join(root, to)), { recursive: true });
  execFileSync(process.execPath, [pbjs, '-t', 'static-module', '-w', 'esm', '--force-number', '--no-verify',
    '--no-delimited', '--no-typeurl', '--no-service', '-r', rootName, '-p', join(root, 'schemas'), '-d', '-o', join(root, to), ...files],
  { stdio: 'inherit' });
}
