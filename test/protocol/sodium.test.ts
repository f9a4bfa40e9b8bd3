// The libsodium primitives of the queue ratchet and the operator key: the KDF and XChaCha20-Poly1305
// give @noble's answers, ChaCha20-Poly1305 gives the RFC 8439 answer, and a sealed message opens only
// with the same key, nonce and associated data, at any size. A ratchet step seals under one subkey and
// moves its key on to another, as the two steps apart would.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { AeadOpenError, chachaOpen, chachaSeal, deriveSubkey, ratchetOpen, ratchetSeal, xchachaOpen, xchachaSeal } from '../../protocol/crypto/index.js';

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

test('the KDF is keyed BLAKE2b with the subkey id as salt and the context as personalisation', (t) => {
  const key = new Uint8Array(32).map((_, i) => i);
  const context = new TextEncoder().encode('KDF test');
  for (const [id, bytes] of [[0, 32], [1, 16], [7, 64], [2 ** 40 + 3, 32]] as const) {
    const salt = new Uint8Array(16);
    new DataView(salt.buffer).setBigUint64(0, BigInt(id), true);
    const personalization = new Uint8Array(16);
    personalization.set(context);
    t.deepEqual(deriveSubkey(key, id, context, bytes), blake2b(new Uint8Array(), { key, salt, personalization, dkLen: bytes }), `subkey ${id}`);
  }
  t.notDeepEqual(deriveSubkey(key, 1, context), deriveSubkey(key, 2, context));
  t.throws(() => deriveSubkey(new Uint8Array(16), 1, context), { instanceOf: RangeError });
  t.throws(() => deriveSubkey(key, 1, new Uint8Array(7)), { instanceOf: RangeError });
  t.throws(() => deriveSubkey(key, -1, context), { instanceOf: RangeError });
});

test('ChaCha20-Poly1305 matches RFC 8439 section 2.8.2', (t) => {
  const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  const nonce = hex('070000004041424344454647');
  const aad = hex('50515253c0c1c2c3c4c5c6c7');
  const plaintext = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const sealed = chachaSeal(key, nonce, aad, plaintext);
  t.deepEqual(sealed.subarray(sealed.length - 16), hex('1ae10b594f09e26a7e902ecbd0600691'));
  t.deepEqual(sealed.subarray(0, 16), hex('d31a8d34648e60db7b86afbc53ef7ec2'));
  t.deepEqual(chachaOpen(key, nonce, aad, sealed), plaintext);
});

test('a sealed message opens only with its key, nonce and associated data', (t) => {
  const key = new Uint8Array(32).fill(1);
  const nonce = new Uint8Array(12);
  const aad = new Uint8Array([1, 2, 3]);
  const sealed = chachaSeal(key, nonce, aad, new Uint8Array([9, 9, 9]));
  t.throws(() => chachaOpen(new Uint8Array(32).fill(2), nonce, aad, sealed), { instanceOf: AeadOpenError });
  t.throws(() => chachaOpen(key, new Uint8Array(12).fill(1), aad, sealed), { instanceOf: AeadOpenError });
  t.throws(() => chachaOpen(key, nonce, new Uint8Array([1, 2, 4]), sealed), { instanceOf: AeadOpenError });
  const tampered = Uint8Array.from(sealed);
  tampered[0]! ^= 1;
  t.throws(() => chachaOpen(key, nonce, aad, tampered), { instanceOf: AeadOpenError });
  t.throws(() => chachaOpen(key, nonce, aad, sealed.subarray(0, 10)), { instanceOf: AeadOpenError });
});

test('XChaCha20-Poly1305 matches @noble/ciphers and refuses what does not open', (t) => {
  const key = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(randomBytes(24));
  for (const length of [0, 1, 64, 100_000]) {
    const plaintext = new Uint8Array(randomBytes(length));
    const sealed = xchachaSeal(key, nonce, plaintext);
    t.deepEqual(sealed, xchacha20poly1305(key, nonce).encrypt(plaintext), `${length} bytes`);
    t.deepEqual(xchachaOpen(key, nonce, sealed), plaintext);
  }
  const sealed = xchachaSeal(key, nonce, new Uint8Array([1, 2, 3]));
  t.throws(() => xchachaOpen(new Uint8Array(32), nonce, sealed), { instanceOf: AeadOpenError });
  t.throws(() => xchachaOpen(key, nonce.subarray(0, 12), sealed), { instanceOf: AeadOpenError });
  t.throws(() => xchachaOpen(key, nonce, sealed.subarray(0, 15)), { instanceOf: AeadOpenError });
});

test('inputs larger than the working area seal and open, and smaller ones still work after', (t) => {
  const key = new Uint8Array(32).fill(3);
  const nonce = new Uint8Array(12);
  const aad = new Uint8Array(5000).fill(4);
  const plaintext = new Uint8Array(randomBytes(300_000));
  t.deepEqual(chachaOpen(key, nonce, aad, chachaSeal(key, nonce, aad, plaintext)), plaintext);
  const small = new Uint8Array([5]);
  t.deepEqual(chachaOpen(key, nonce, new Uint8Array(), chachaSeal(key, nonce, new Uint8Array(), small)), small);
});

test('a ratchet step seals under one subkey and moves the key on to another, in place', (t) => {
  const context = new TextEncoder().encode('ratchet!');
  const original = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(12);
  const aad = new Uint8Array([7, 7]);
  const plaintext = new Uint8Array(randomBytes(300));
  const sender = original.slice();
  const sealed = ratchetSeal(sender, context, 1, 2, nonce, aad, plaintext);
  t.deepEqual(sealed, chachaSeal(deriveSubkey(original, 1, context), nonce, aad, plaintext));
  t.deepEqual(sender, deriveSubkey(original, 2, context));

  const receiver = original.slice();
  t.throws(() => ratchetOpen(receiver, context, 1, 2, nonce, new Uint8Array([7, 8]), sealed), { instanceOf: AeadOpenError });
  t.throws(() => ratchetOpen(receiver, context, 1, 2, nonce, aad, sealed.subarray(0, 15)), { instanceOf: AeadOpenError });
  t.deepEqual(receiver, original, 'a message that does not open leaves the key as it was');
  t.deepEqual(ratchetOpen(receiver, context, 1, 2, nonce, aad, sealed), plaintext);
  t.deepEqual(receiver, sender);
  t.throws(() => ratchetSeal(new Uint8Array(16), context, 1, 2, nonce, aad, plaintext), { instanceOf: RangeError });
});
