// Labelled Ed25519 (OpenSSL): signatures verify only for the same key, label and bytes, malformed input
// is a plain `false`, and the signatures are the RFC 8032 ones (the same as an independent
// implementation's, which also accepts them).
import test from 'ava';
import { ed25519 } from '@noble/curves/ed25519.js';
import { generateSigningKeyPair, signLabelled, verifyLabelled } from '../../protocol/crypto/signing.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

test('a signature verifies for its key, label and bytes only', (t) => {
  const keys = generateSigningKeyPair();
  const other = generateSigningKeyPair();
  const signature = signLabelled(keys.privateKey, 'Request', bytes('hello'));
  t.true(verifyLabelled(keys.publicKey, 'Request', bytes('hello'), signature));
  t.false(verifyLabelled(other.publicKey, 'Request', bytes('hello'), signature));
  t.false(verifyLabelled(keys.publicKey, 'OtherPurpose', bytes('hello'), signature));
  t.false(verifyLabelled(keys.publicKey, 'Request', bytes('hellO'), signature));
  const flipped = Uint8Array.from(signature);
  flipped[10]! ^= 1;
  t.false(verifyLabelled(keys.publicKey, 'Request', bytes('hello'), flipped));
});

test('malformed keys and signatures give false, never an exception', (t) => {
  const keys = generateSigningKeyPair();
  const signature = signLabelled(keys.privateKey, 'Request', bytes('x'));
  t.false(verifyLabelled(keys.publicKey.subarray(1), 'Request', bytes('x'), signature));
  t.false(verifyLabelled(keys.publicKey, 'Request', bytes('x'), signature.subarray(1)));
  t.false(verifyLabelled(new Uint8Array(32), 'Request', bytes('x'), signature));
  t.false(verifyLabelled(new Uint8Array(32).fill(0xff), 'Request', bytes('x'), new Uint8Array(64).fill(0xff)));
});

test('signatures are the deterministic RFC 8032 ones, interchangeable with another implementation', (t) => {
  const keys = generateSigningKeyPair();
  const message = bytes('mls-homeserver/v1/Request\0payload');
  const ours = signLabelled(keys.privateKey, 'Request', bytes('payload'));
  t.deepEqual(ours, ed25519.sign(message, keys.privateKey));
  t.true(ed25519.verify(ours, message, keys.publicKey));
  t.true(verifyLabelled(keys.publicKey, 'Request', bytes('payload'), ed25519.sign(message, keys.privateKey)));
});
