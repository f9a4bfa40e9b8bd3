// Loading the operator key (actors/runtime/operator-key.ts) from configuration: HS_OPERATOR_KEY,
// base64 of 32 bytes. Without it, an embedded node (no DATABASE_URL) uses DATA_DIR/operator-key,
// created on first use with a warning: convenient on one machine, but the key then sits next to the
// database it protects. A node on an external database refuses to start without one, since a key it
// generated itself would be lost with the machine.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { randomBytes } from '../protocol/crypto/index.js';
import { OPERATOR_KEY_BYTES, OperatorKey } from '../actors/runtime/operator-key.js';
// A missing or malformed key is a configuration problem: the node process exits 2 and says why.
import { SettingsError } from '../actors/runtime/settings.js';

const KEY_FILE = 'operator-key';

export function loadOperatorKey(env: Readonly<Record<string, string | undefined>>, log?: Logger): OperatorKey {
  const configured = env.HS_OPERATOR_KEY?.trim();
  if (configured) {
    const bytes = Buffer.from(configured, 'base64');
    if (bytes.length !== OPERATOR_KEY_BYTES || bytes.toString('base64').replace(/=+$/, '') !== configured.replace(/=+$/, '')) {
      throw new SettingsError([`HS_OPERATOR_KEY must be ${OPERATOR_KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`]);
    }
    return new OperatorKey(new Uint8Array(bytes));
  }
  if (env.DATABASE_URL?.trim()) {
    throw new SettingsError(['HS_OPERATOR_KEY is required when DATABASE_URL is set (32 bytes in base64, e.g. `openssl rand -base64 32`)']);
  }
  const dir = resolve(env.DATA_DIR?.trim() || './data');
  const file = join(dir, KEY_FILE);
  let bytes: Buffer;
  try {
    bytes = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch {
    mkdirSync(dir, { recursive: true });
    bytes = Buffer.from(randomBytes(OPERATOR_KEY_BYTES));
    try {
      writeFileSync(file, `${bytes.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
      log?.warn({ file }, 'no HS_OPERATOR_KEY configured: generated an operator key in the data directory; set HS_OPERATOR_KEY in production');
    } catch {
      // Another process created it first: use theirs.
      bytes = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    }
  }
  return new OperatorKey(new Uint8Array(bytes));
}
