// The operator key: one 32-byte secret from configuration (HS_OPERATOR_KEY, base64) under which every
// module seals the server private keys it stores (AS signing keys, AAS issuer keys, QS keys), so a
// database dump alone reveals no private key. In embedded mode with no key configured, one is
// generated into the data directory (with a warning): convenient for a single machine, but the key
// then sits next to the database it protects.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { aeadOpen, aeadSeal, deriveKey, randomBytes } from '../protocol/crypto/index.js';
// A missing or malformed key is a configuration problem: the node process exits 2 and says why.
import { SettingsError } from '../actors/runtime/settings.js';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const KEY_FILE = 'operator-key';

export class OperatorKeyError extends Error {
  override readonly name = 'OperatorKeyError';
}

/** Seals and opens server secrets at rest. `purpose` separates uses: a box sealed for one purpose never
 *  opens under another. */
export class OperatorKey {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new OperatorKeyError(`the operator key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.#key = Uint8Array.from(key);
  }

  /** nonce || AES-256-GCM(ciphertext || tag), under a key derived for `purpose`. */
  seal(purpose: string, plaintext: Uint8Array): Uint8Array {
    const nonce = randomBytes(NONCE_BYTES);
    const sealed = aeadSeal(this.subkey(purpose), nonce, new Uint8Array(), plaintext);
    const out = new Uint8Array(NONCE_BYTES + sealed.length);
    out.set(nonce);
    out.set(sealed, NONCE_BYTES);
    return out;
  }

  /** Throws OperatorKeyError when the box was sealed under another key or purpose, or was altered. */
  open(purpose: string, box: Uint8Array): Uint8Array {
    if (box.length < NONCE_BYTES) throw new OperatorKeyError('sealed secret is truncated');
    try {
      return aeadOpen(this.subkey(purpose), box.subarray(0, NONCE_BYTES), new Uint8Array(), box.subarray(NONCE_BYTES));
    } catch {
      throw new OperatorKeyError(`a stored ${purpose} secret does not open with the configured operator key (HS_OPERATOR_KEY changed?)`);
    }
  }

  // Derived once per purpose: some purposes seal on every write of a busy actor (QS queue ratchets).
  readonly #subkeys = new Map<string, Uint8Array>();

  private subkey(purpose: string): Uint8Array {
    let key = this.#subkeys.get(purpose);
    if (!key) {
      key = deriveKey(this.#key, new Uint8Array(), `mls-homeserver/operator-key/${purpose}`);
      this.#subkeys.set(purpose, key);
    }
    return key;
  }
}

const generated = new Map<string, OperatorKey>();

/**
 * The operator key from `env`: HS_OPERATOR_KEY (base64 of 32 bytes). Without it, embedded nodes (no
 * DATABASE_URL) use DATA_DIR/operator-key, created on first use; a node on an external database
 * refuses to start, since a key it generated itself would be lost with the machine.
 */
export function loadOperatorKey(env: Readonly<Record<string, string | undefined>>, log?: Logger): OperatorKey {
  const configured = env.HS_OPERATOR_KEY?.trim();
  if (configured) {
    const bytes = Buffer.from(configured, 'base64');
    if (bytes.length !== KEY_BYTES || bytes.toString('base64').replace(/=+$/, '') !== configured.replace(/=+$/, '')) {
      throw new SettingsError([`HS_OPERATOR_KEY must be ${KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`]);
    }
    return new OperatorKey(new Uint8Array(bytes));
  }
  if (env.DATABASE_URL?.trim()) {
    throw new SettingsError(['HS_OPERATOR_KEY is required when DATABASE_URL is set (32 bytes in base64, e.g. `openssl rand -base64 32`)']);
  }
  const dir = resolve(env.DATA_DIR?.trim() || './data');
  const cached = generated.get(dir);
  if (cached) return cached;
  const file = join(dir, KEY_FILE);
  let bytes: Buffer;
  try {
    bytes = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch {
    mkdirSync(dir, { recursive: true });
    bytes = Buffer.from(randomBytes(KEY_BYTES));
    try {
      writeFileSync(file, `${bytes.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
      log?.warn({ file }, 'no HS_OPERATOR_KEY configured: generated an operator key in the data directory; set HS_OPERATOR_KEY in production');
    } catch {
      // Another module of this process (or another process) created it first: use theirs.
      bytes = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    }
  }
  const key = new OperatorKey(new Uint8Array(bytes));
  generated.set(dir, key);
  return key;
}
