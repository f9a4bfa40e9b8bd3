// The operator key: one 32-byte secret from configuration under which modules seal the server
// private keys and other secrets they store, so a database dump alone reveals none of them. The node
// loads it (cluster/operator-key.ts) and lends it to modules as ModuleDeps.operatorKey().
import { aeadOpen, aeadSeal, deriveKey, randomBytes, xchachaOpen, xchachaSeal, XCHACHA_NONCE_BYTES } from '../../protocol/crypto/index.js';

export const OPERATOR_KEY_BYTES = 32;
const NONCE_BYTES = 12;

export class OperatorKeyError extends Error {
  override readonly name = 'OperatorKeyError';
}

/** Seals and opens server secrets at rest. `purpose` separates uses: a box sealed for one purpose never
 *  opens under another. */
export class OperatorKey {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length !== OPERATOR_KEY_BYTES) throw new OperatorKeyError(`the operator key must be ${OPERATOR_KEY_BYTES} bytes, got ${key.length}`);
    this.#key = Uint8Array.from(key);
  }

  /** nonce || AES-256-GCM(ciphertext || tag), under a key derived for `purpose`. */
  seal(purpose: string, plaintext: Uint8Array): Uint8Array {
    const nonce = randomBytes(NONCE_BYTES);
    return withNonce(nonce, aeadSeal(this.subkey(purpose), nonce, new Uint8Array(), plaintext));
  }

  /** Throws OperatorKeyError when the box was sealed under another key or purpose, or was altered. */
  open(purpose: string, box: Uint8Array): Uint8Array {
    return openBox(purpose, box, NONCE_BYTES, (nonce, sealed) => aeadOpen(this.subkey(purpose), nonce, new Uint8Array(), sealed));
  }

  /**
   * nonce || XChaCha20-Poly1305(ciphertext || tag), for secrets sealed at a high rate (a queue's
   * ratchet key on every turn). AES-GCM's random 12-byte nonces allow about 2^32 seals per key, which a
   * busy QS reaches within days; random 24-byte nonces never run out. Also cheaper per call (libsodium).
   */
  sealFrequent(purpose: string, plaintext: Uint8Array): Uint8Array {
    const nonce = randomBytes(XCHACHA_NONCE_BYTES);
    return withNonce(nonce, xchachaSeal(this.frequentSubkey(purpose), nonce, plaintext));
  }

  /** Opens a sealFrequent box; throws OperatorKeyError like `open`. */
  openFrequent(purpose: string, box: Uint8Array): Uint8Array {
    return openBox(purpose, box, XCHACHA_NONCE_BYTES, (nonce, sealed) => xchachaOpen(this.frequentSubkey(purpose), nonce, sealed));
  }

  // Derived once per purpose: some purposes seal on every write of a busy actor (QS queue ratchets).
  readonly #subkeys = new Map<string, Uint8Array>();
  readonly #frequentSubkeys = new Map<string, Uint8Array>();

  private subkey(purpose: string): Uint8Array {
    return this.derived(this.#subkeys, 'mls-homeserver/operator-key/', purpose);
  }

  /** The sealFrequent subkey of a purpose, under its own label: no purpose given to `seal` can derive
   *  it, so the two ciphers never share a key. */
  private frequentSubkey(purpose: string): Uint8Array {
    return this.derived(this.#frequentSubkeys, 'mls-homeserver/operator-key-frequent/', purpose);
  }

  private derived(cache: Map<string, Uint8Array>, label: string, purpose: string): Uint8Array {
    let key = cache.get(purpose);
    if (!key) {
      key = deriveKey(this.#key, new Uint8Array(), `${label}${purpose}`);
      cache.set(purpose, key);
    }
    return key;
  }
}

function withNonce(nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  const box = new Uint8Array(nonce.length + sealed.length);
  box.set(nonce);
  box.set(sealed, nonce.length);
  return box;
}

/** Splits nonce || sealed and opens it; any failure is an OperatorKeyError naming the purpose. */
function openBox(purpose: string, box: Uint8Array, nonceBytes: number, open: (nonce: Uint8Array, sealed: Uint8Array) => Uint8Array): Uint8Array {
  if (box.length < nonceBytes) throw new OperatorKeyError('sealed secret is truncated');
  try {
    return open(box.subarray(0, nonceBytes), box.subarray(nonceBytes));
  } catch {
    throw new OperatorKeyError(`a stored ${purpose} secret does not open with the configured operator key (HS_OPERATOR_KEY changed?)`);
  }
}
