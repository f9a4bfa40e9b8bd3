// The queue ratchet (spec: queuing_service/queue_encryption.md). The QS holds one ratchet key per
// queue. Each message: message key and next ratchet key are derived from the current one under
// distinct labels (libsodium's BLAKE2b KDF, subkeys 1 and 2 of context "hsqratch"), the message is
// sealed (ChaCha20-Poly1305) with aad = queue id || sequence number || kind, and the old key is
// erased (forward secrecy). A key update mixes fresh randomness into a
// rotation key derived from the current one; the randomness travels HPKE-sealed to the queue
// encryption key (post-compromise security). The first ratchet key travels the same way. The client
// follows the same steps.
import { hs } from '../../schemas/index.js';
import { CHACHA_NONCE_BYTES, deriveKey, deriveSubkey, hpkeOpen, hpkeSeal, randomBytes, ratchetOpen, ratchetSeal, type HpkeKeyPair } from '../crypto/index.js';

export const RATCHET_KEY_BYTES = 32;
const LABEL = 'mls-homeserver/qs/ratchet/';
const NO_SALT = new Uint8Array();
// Every message key is used once, so a fixed nonce is safe.
const NONCE = new Uint8Array(CHACHA_NONCE_BYTES);
const Kind = hs.qs.QueueMessageKind;

export function newRatchetKey(): Uint8Array {
  return randomBytes(RATCHET_KEY_BYTES);
}

/** Associated data binding a queue message to its queue, position and kind. */
export function messageAad(queueId: Uint8Array, sequenceNumber: number, kind: hs.qs.QueueMessageKind): Uint8Array {
  const aad = new Uint8Array(queueId.length + 9);
  aad.set(queueId);
  // u64 big-endian, byte by byte from two 32-bit halves (a BigInt, or a DataView, per message cost
  // more than the rest of this).
  const high = Math.floor(sequenceNumber / 0x1_0000_0000);
  const low = sequenceNumber >>> 0;
  for (let i = 0; i < 4; i++) {
    aad[queueId.length + i] = (high >>> (24 - 8 * i)) & 0xff;
    aad[queueId.length + 4 + i] = (low >>> (24 - 8 * i)) & 0xff;
  }
  aad[queueId.length + 8] = kind;
  return aad;
}

// Subkeys of a ratchet key (libsodium's KDF): one context for the queue ratchet, one id per label.
const STEP_CONTEXT = new TextEncoder().encode('hsqratch');
const MESSAGE_KEY_ID = 1;
const NEXT_KEY_ID = 2;

/** One step: the message key and the next ratchet key. The caller's key is erased. */
export function step(ratchetKey: Uint8Array): { messageKey: Uint8Array; nextKey: Uint8Array } {
  const messageKey = deriveSubkey(ratchetKey, MESSAGE_KEY_ID, STEP_CONTEXT);
  const nextKey = deriveSubkey(ratchetKey, NEXT_KEY_ID, STEP_CONTEXT);
  ratchetKey.fill(0);
  return { messageKey, nextKey };
}

/** The ratchet key after a key update with `fresh` randomness. The caller's key is erased. */
export function applyKeyUpdate(ratchetKey: Uint8Array, fresh: Uint8Array): Uint8Array {
  const rotationKey = deriveKey(ratchetKey, NO_SALT, `${LABEL}rotation`);
  ratchetKey.fill(0);
  const next = deriveKey(fresh, rotationKey, `${LABEL}update`);
  rotationKey.fill(0);
  return next;
}

/** Seals one message, the step taken in place: `ratchetKey` then holds the next ratchet key, and the
 *  message key never leaves the crypto module (one trip into it per message, not three). */
export function sealMessage(ratchetKey: Uint8Array, queueId: Uint8Array, sequenceNumber: number, plaintext: Uint8Array): hs.qs.IQueueMessage {
  const ciphertext = ratchetSeal(ratchetKey, STEP_CONTEXT, MESSAGE_KEY_ID, NEXT_KEY_ID, NONCE, messageAad(queueId, sequenceNumber, Kind.MESSAGE), plaintext);
  return { sequenceNumber, kind: Kind.MESSAGE, ciphertext };
}

/** Seals a ratchet secret (initial key or update randomness) to the queue encryption key. */
export async function sealRatchetSecret(queueEncryptionKey: Uint8Array, queueId: Uint8Array, sequenceNumber: number, kind: hs.qs.QueueMessageKind, secret: Uint8Array): Promise<hs.qs.IQueueMessage> {
  const aad = messageAad(queueId, sequenceNumber, kind);
  const sealed = await hpkeSeal(queueEncryptionKey, new TextEncoder().encode(`${LABEL}${Kind[kind]}`), aad, secret);
  return { sequenceNumber, kind, enc: sealed.enc, ciphertext: sealed.ciphertext };
}

/** Opens a RATCHET_INIT or KEY_UPDATE entry (client side). Throws HpkeOpenError. */
export function openRatchetSecret(keyPair: HpkeKeyPair, queueId: Uint8Array, message: hs.qs.IQueueMessage): Promise<Uint8Array> {
  const kind = message.kind ?? Kind.QUEUE_MESSAGE_KIND_UNSPECIFIED;
  return hpkeOpen(keyPair, new TextEncoder().encode(`${LABEL}${Kind[kind]}`), messageAad(queueId, Number(message.sequenceNumber ?? 0), kind),
    { enc: message.enc ?? new Uint8Array(), ciphertext: message.ciphertext ?? new Uint8Array() });
}

export class QueueDecryptError extends Error {
  override readonly name = 'QueueDecryptError';
}

/**
 * The client's side of one queue: feed it every message in sequence order (as dequeued); it returns
 * the plaintexts of MESSAGE entries and follows RATCHET_INIT and KEY_UPDATE entries itself.
 */
export class QueueReader {
  private ratchetKey: Uint8Array | undefined;
  private expected: number | undefined;

  constructor(private readonly queueId: Uint8Array, private keyPair: HpkeKeyPair) {}

  /** After the client rotates its queue encryption key, later secrets are sealed to the new one. */
  setKeyPair(keyPair: HpkeKeyPair): void {
    this.keyPair = keyPair;
  }

  /** The sequence number of the next message this reader expects. */
  get nextSequenceNumber(): number {
    return this.expected ?? 0;
  }

  async read(message: hs.qs.IQueueMessage): Promise<Uint8Array | undefined> {
    const seq = Number(message.sequenceNumber ?? 0);
    if (this.expected !== undefined && seq !== this.expected) throw new QueueDecryptError(`expected message ${this.expected}, got ${seq}`);
    const kind = message.kind ?? Kind.QUEUE_MESSAGE_KIND_UNSPECIFIED;
    const aad = messageAad(this.queueId, seq, kind);
    let plaintext: Uint8Array | undefined;
    try {
      if (kind === Kind.MESSAGE) {
        if (!this.ratchetKey) throw new QueueDecryptError('message before the ratchet was initialised');
        // The key moves on only when the message opens.
        plaintext = ratchetOpen(this.ratchetKey, STEP_CONTEXT, MESSAGE_KEY_ID, NEXT_KEY_ID, NONCE, aad, message.ciphertext ?? new Uint8Array());
      } else if (kind === Kind.RATCHET_INIT || kind === Kind.KEY_UPDATE) {
        const secret = await openRatchetSecret(this.keyPair, this.queueId, message);
        if (kind === Kind.RATCHET_INIT) this.ratchetKey = secret;
        else if (!this.ratchetKey) throw new QueueDecryptError('key update before the ratchet was initialised');
        else this.ratchetKey = applyKeyUpdate(this.ratchetKey, secret);
      } else {
        throw new QueueDecryptError(`unknown queue message kind ${kind}`);
      }
    } catch (error) {
      if (error instanceof QueueDecryptError) throw error;
      throw new QueueDecryptError(`queue message ${seq} does not decrypt: ${(error as Error).message}`);
    }
    this.expected = seq + 1;
    return plaintext;
  }
}
