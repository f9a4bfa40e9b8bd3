// HPKE (RFC 9180) with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM, in base mode
// (anonymous sender) or auth mode (the sender proves possession of its own X25519 key).
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { x25519 } from '@noble/curves/ed25519.js';

const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });

export interface HpkeKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface HpkeCiphertext {
  /** The KEM's encapsulated key. */
  enc: Uint8Array;
  ciphertext: Uint8Array;
}

export class HpkeOpenError extends Error {
  override readonly name = 'HpkeOpenError';
}

export function generateHpkeKeyPair(): HpkeKeyPair {
  const privateKey = x25519.utils.randomSecretKey();
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

export function hpkePublicKey(privateKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(privateKey);
}

// A copy with its own exact-size buffer. Not `bytes.slice()`: for a Node Buffer (protobufjs decodes
// bytes fields to Buffers) slice shares the pooled 8 KiB buffer, and `.buffer` would be all of it.
const toBuffer = (bytes: Uint8Array): ArrayBuffer => new Uint8Array(bytes).buffer as ArrayBuffer;

type ImportedKey = Awaited<ReturnType<typeof suite.kem.importKey>>;

async function importPrivate(keyPair: HpkeKeyPair): Promise<{ privateKey: ImportedKey; publicKey: ImportedKey }> {
  return { privateKey: await suite.kem.importKey('raw', toBuffer(keyPair.privateKey), false),
    publicKey: await suite.kem.importKey('raw', toBuffer(keyPair.publicKey), true) };
}

/** Encrypts to `recipientPublicKey`; with `sender`, in auth mode. `info` binds the purpose. */
export async function hpkeSeal(recipientPublicKey: Uint8Array, info: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, sender?: HpkeKeyPair): Promise<HpkeCiphertext> {
  const recipient = await suite.kem.importKey('raw', toBuffer(recipientPublicKey), true);
  const context = await suite.createSenderContext({
    recipientPublicKey: recipient, info: toBuffer(info),
    ...(sender ? { senderKey: await importPrivate(sender) } : {}),
  });
  const ciphertext = await context.seal(toBuffer(plaintext), toBuffer(aad));
  return { enc: new Uint8Array(context.enc), ciphertext: new Uint8Array(ciphertext) };
}

/** Decrypts; with `senderPublicKey`, only what that sender sealed in auth mode. Throws HpkeOpenError. */
export async function hpkeOpen(recipient: HpkeKeyPair, info: Uint8Array, aad: Uint8Array, sealed: HpkeCiphertext, senderPublicKey?: Uint8Array): Promise<Uint8Array> {
  try {
    const context = await suite.createRecipientContext({
      recipientKey: await importPrivate(recipient), enc: toBuffer(sealed.enc), info: toBuffer(info),
      ...(senderPublicKey ? { senderPublicKey: await suite.kem.importKey('raw', toBuffer(senderPublicKey), true) } : {}),
    });
    return new Uint8Array(await context.open(toBuffer(sealed.ciphertext), toBuffer(aad)));
  } catch {
    throw new HpkeOpenError('HPKE ciphertext does not open with this key');
  }
}
