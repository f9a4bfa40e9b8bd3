// The libsodium primitives of the queue ratchet: HMAC-SHA256 gives OpenSSL's answer (node:crypto),
// ChaCha20-Poly1305 gives the RFC 8439 answer, and a sealed message opens only with the same key,
// nonce and associated data.
import test from 'ava';
import { createHmac } from 'node:crypto';
import { AeadOpenError, chachaOpen, chachaSeal, hmacSha256 } from '../../protocol/crypto/index.js';

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

test('HMAC-SHA256 with 32-byte keys matches node:crypto', (t) => {
  for (const length of [0, 1, 34, 64, 65, 1000]) {
    const key = new Uint8Array(32).map((_, i) => i * 7 + length);
    const data = new Uint8Array(length).map((_, i) => i);
    t.deepEqual(hmacSha256(key, data), new Uint8Array(createHmac('sha256', key).update(data).digest()), `${length} bytes`);
  }
  t.throws(() => hmacSha256(new Uint8Array(16), new Uint8Array(1)), undefined, 'other key sizes are refused');
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
