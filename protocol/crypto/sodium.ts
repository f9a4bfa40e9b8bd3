// libsodium's BLAKE2b KDF, ChaCha20-Poly1305 (IETF) and XChaCha20-Poly1305, compiled to
// WebAssembly. The queue ratchet runs these for every queued message, with tiny inputs:
// - node:crypto builds a JS object, a C++ context and several Buffers per call (about 4 µs per
//   HMAC-SHA256 and 7-13 µs per AEAD seal on the 2-core test machines);
// - libsodium's generic JS wrapper validates every argument and mallocs and frees each input and
//   output in WebAssembly memory (about half of the time these calls took in the QS profile).
// So this module calls the raw library (npm libsodium) itself: inputs are copied into one working
// area of WebAssembly memory, the C function runs there, the output is copied out and the area is
// wiped (the wrapper left keys and plaintexts behind in freed memory). ChaCha20 rather than AES,
// because AES in software (there is no AES-NI in WebAssembly) is not constant-time.
import { randomInt } from 'node:crypto';
import createSodium, { type RawSodium } from 'libsodium';
import { AeadOpenError } from './symmetric.js';

const sodium: RawSodium = await createSodium({ getRandomValue: () => randomInt(0x1_0000_0000) });
if (sodium._sodium_init() < 0) throw new Error('libsodium failed to initialise');

export const CHACHA_KEY_BYTES = 32;
export const CHACHA_NONCE_BYTES = 12;
export const XCHACHA_NONCE_BYTES = 24;
const TAG_BYTES = 16;

/** The working area: grown (never shrunk) when a call needs more. */
let area = 0;
let areaBytes = 0;

/** Room for `bytes` at `area`. Returns the heap view to use: growing WebAssembly memory replaces
 *  the ArrayBuffer, so a view taken before a malloc may be detached. */
function reserve(bytes: number): Uint8Array {
  if (bytes > areaBytes) {
    if (area !== 0) {
      sodium.HEAPU8.fill(0, area, area + areaBytes);
      sodium._free(area);
    }
    areaBytes = Math.max(4096, 2 ** Math.ceil(Math.log2(bytes)));
    area = sodium._malloc(areaBytes);
    if (area === 0) throw new Error('libsodium is out of memory');
  }
  return sodium.HEAPU8;
}

// A call copies its arguments into the working area one after another (begin, then put each),
// leaves room for its output after them, and ends with takeOutput, which wipes what it used. Module
// state rather than a returned object: these run several times per queued message.
let cursor = 0;
let staged = 0;

/** Starts a call that uses `bytes` of the working area in all. */
function begin(bytes: number): Uint8Array {
  const heap = reserve(bytes);
  cursor = area;
  staged = bytes;
  return heap;
}

/** Copies `input` in next; returns where it starts. */
function put(heap: Uint8Array, input: Uint8Array): number {
  const at = cursor;
  heap.set(input, at);
  cursor += input.length;
  return at;
}

/** Ciphertexts longer than V8 keeps inside its heap (64 bytes) are carved from shared blocks: slice
 *  gives each its own ArrayBuffer, which for a queued message's 272-byte ciphertext cost about 0.6 µs
 *  against 0.1 µs carved. Like a pooled Buffer, such an output's `.buffer` is the whole block, and a
 *  kept output keeps its block: so only seals carve (their ciphertexts are encoded or copied at once
 *  here), never opens, whose plaintexts a caller may keep for long. */
const BLOCK_BYTES = 64 * 1024;
const IN_HEAP_BYTES = 64;
let block = new ArrayBuffer(BLOCK_BYTES);
let blockUsed = 0;

function carved(bytes: number): Uint8Array {
  if (bytes <= IN_HEAP_BYTES || bytes > BLOCK_BYTES / 16) return new Uint8Array(bytes);
  if (blockUsed + bytes > BLOCK_BYTES) {
    block = new ArrayBuffer(BLOCK_BYTES);
    blockUsed = 0;
  }
  const output = new Uint8Array(block, blockUsed, bytes);
  // Views start 8-byte aligned, as the DataViews and typed arrays that may wrap them prefer.
  blockUsed += (bytes + 7) & ~7;
  return output;
}

/** Copies `bytes` of output from `at` out (nothing when the call failed; into a carved array when
 *  `carve` is set) and wipes the area used. */
function takeOutput(heap: Uint8Array, at: number, bytes: number | undefined, carve = false): Uint8Array | undefined {
  let output: Uint8Array | undefined;
  if (bytes !== undefined && carve) {
    output = carved(bytes);
    output.set(heap.subarray(at, at + bytes));
  } else if (bytes !== undefined) {
    output = heap.slice(at, at + bytes);
  }
  heap.fill(0, area, area + staged);
  return output;
}

function requireLength(value: Uint8Array, bytes: number, name: string): void {
  if (value.length !== bytes) throw new RangeError(`${name} must be ${bytes} bytes, not ${value.length}`);
}

const SUBKEY_CONTEXT_BYTES = 8;
const KDF_KEY_BYTES = 32;

function checkSubkeyId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 0) throw new RangeError('a subkey id is a non-negative integer');
}

function checkKdfArguments(key: Uint8Array, id: number, context: Uint8Array, bytes: number): void {
  requireLength(key, KDF_KEY_BYTES, 'a KDF key');
  requireLength(context, SUBKEY_CONTEXT_BYTES, 'a KDF context');
  checkSubkeyId(id);
  if (bytes < 16 || bytes > 64) throw new RangeError('subkeys are 16 to 64 bytes');
}

/** Runs the KDF inside the working area: subkey `id` of the key at `keyAt` to `outAt`. */
function kdfAt(outAt: number, bytes: number, id: number, contextAt: number, keyAt: number): void {
  sodium._crypto_kdf_derive_from_key(outAt, bytes, id % 0x1_0000_0000, Math.floor(id / 0x1_0000_0000), contextAt, keyAt);
}

/** libsodium's KDF (crypto_kdf_derive_from_key): subkey `id` under an 8-byte `context` from a 32-byte
 *  key, as keyed BLAKE2b with the id and context as salt and personalisation. One BLAKE2b block:
 *  about a fifth of the time of an HMAC-SHA256 in the same WebAssembly. Subkeys of 16 to 64 bytes. */
export function deriveSubkey(key: Uint8Array, id: number, context: Uint8Array, bytes = 32): Uint8Array {
  checkKdfArguments(key, id, context, bytes);
  const heap = begin(key.length + context.length + bytes);
  const keyAt = put(heap, key);
  const contextAt = put(heap, context);
  const outAt = cursor;
  kdfAt(outAt, bytes, id, contextAt, keyAt);
  return takeOutput(heap, outAt, bytes)!;
}

type AeadSeal = RawSodium['_crypto_aead_chacha20poly1305_ietf_encrypt'];
type AeadOpen = RawSodium['_crypto_aead_chacha20poly1305_ietf_decrypt'];
/** One of libsodium's AEAD ciphers: its two functions and its nonce size. */
interface AeadCipher {
  seal: AeadSeal;
  open: AeadOpen;
  nonceBytes: number;
}
const CHACHA: AeadCipher = {
  seal: sodium._crypto_aead_chacha20poly1305_ietf_encrypt, open: sodium._crypto_aead_chacha20poly1305_ietf_decrypt, nonceBytes: CHACHA_NONCE_BYTES,
};
const XCHACHA: AeadCipher = {
  seal: sodium._crypto_aead_xchacha20poly1305_ietf_encrypt, open: sodium._crypto_aead_xchacha20poly1305_ietf_decrypt, nonceBytes: XCHACHA_NONCE_BYTES,
};
const NO_AAD = new Uint8Array();

const aeadOutputBytes = (open: boolean, input: Uint8Array): number => (open ? input.length - TAG_BYTES : input.length + TAG_BYTES);

/** What an AEAD call stages after its key: nonce, aad, input and room for the output. */
const aeadStagedBytes = (open: boolean, nonce: Uint8Array, aad: Uint8Array, input: Uint8Array): number =>
  nonce.length + aad.length + input.length + aeadOutputBytes(open, input);

/** Checks an AEAD call's nonce and input. Opening, these are stored or received bytes: a short nonce
 *  or ciphertext is one that does not open. */
function checkAead(cipher: AeadCipher, open: boolean, nonce: Uint8Array, input: Uint8Array): void {
  if (!open) requireLength(nonce, cipher.nonceBytes, 'an AEAD nonce');
  else if (nonce.length !== cipher.nonceBytes || input.length < TAG_BYTES) throw new AeadOpenError('ciphertext does not open with this key');
}

/** Stages the nonce, aad and input after what the call has staged so far, and seals or opens with the
 *  key already at `keyAt` in the working area. Returns where the output starts, or -1 when the input
 *  does not open. */
function aeadInArea(heap: Uint8Array, cipher: AeadCipher, open: boolean, keyAt: number, nonce: Uint8Array, aad: Uint8Array, input: Uint8Array): number {
  const nonceAt = put(heap, nonce);
  const aadAt = put(heap, aad);
  const inputAt = put(heap, input);
  const outAt = cursor;
  if (open) return cipher.open(outAt, 0, 0, inputAt, input.length, 0, aadAt, aad.length, 0, nonceAt, keyAt) === 0 ? outAt : -1;
  cipher.seal(outAt, 0, inputAt, input.length, 0, aadAt, aad.length, 0, 0, nonceAt, keyAt);
  return outAt;
}

/** The output (carved when sealing, see `carved`), with the working area wiped; throws AeadOpenError
 *  when it did not open. */
function aeadOutput(heap: Uint8Array, open: boolean, outAt: number, input: Uint8Array): Uint8Array {
  const output = takeOutput(heap, outAt, outAt < 0 ? undefined : aeadOutputBytes(open, input), !open);
  if (!output) throw new AeadOpenError('ciphertext does not open with this key');
  return output;
}

function aead(cipher: AeadCipher, open: boolean, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, input: Uint8Array): Uint8Array {
  requireLength(key, CHACHA_KEY_BYTES, 'an AEAD key');
  checkAead(cipher, open, nonce, input);
  const heap = begin(key.length + aeadStagedBytes(open, nonce, aad, input));
  const outAt = aeadInArea(heap, cipher, open, put(heap, key), nonce, aad, input);
  return aeadOutput(heap, open, outAt, input);
}

/** ciphertext || 16-byte tag. */
export function chachaSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return aead(CHACHA, false, key, nonce, aad, plaintext);
}

/** Throws AeadOpenError when the key, nonce, aad or ciphertext do not match. */
export function chachaOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  return aead(CHACHA, true, key, nonce, aad, sealed);
}

/** XChaCha20-Poly1305 (IETF): its 24-byte nonces may be drawn at random for any number of seals under
 *  one key. ciphertext || 16-byte tag. */
export function xchachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return aead(XCHACHA, false, key, nonce, NO_AAD, plaintext);
}

/** Throws AeadOpenError when the key, nonce or ciphertext do not match. */
export function xchachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  return aead(XCHACHA, true, key, nonce, NO_AAD, sealed);
}

/**
 * One step of a KDF ratchet with ChaCha20-Poly1305 (IETF), in one trip into WebAssembly: subkey
 * `useId` of `key` seals `input` (or, with `open`, opens it), and `key` is overwritten in place with
 * its subkey `nextId`. The per-message key never leaves WebAssembly memory, where it is wiped with the
 * rest. Opening: throws AeadOpenError and leaves `key` as it was when `input` does not open.
 */
function ratchetAead(open: boolean, key: Uint8Array, context: Uint8Array, useId: number, nextId: number,
  nonce: Uint8Array, aad: Uint8Array, input: Uint8Array): Uint8Array {
  checkKdfArguments(key, useId, context, CHACHA_KEY_BYTES);
  checkSubkeyId(nextId);
  checkAead(CHACHA, open, nonce, input);
  const heap = begin(key.length + context.length + CHACHA_KEY_BYTES + aeadStagedBytes(open, nonce, aad, input));
  const keyAt = put(heap, key);
  const contextAt = put(heap, context);
  const subkeyAt = cursor;
  cursor += CHACHA_KEY_BYTES;
  kdfAt(subkeyAt, CHACHA_KEY_BYTES, useId, contextAt, keyAt);
  const outAt = aeadInArea(heap, CHACHA, open, subkeyAt, nonce, aad, input);
  if (outAt >= 0) {
    kdfAt(subkeyAt, CHACHA_KEY_BYTES, nextId, contextAt, keyAt);
    key.set(heap.subarray(subkeyAt, subkeyAt + CHACHA_KEY_BYTES));
  }
  return aeadOutput(heap, open, outAt, input);
}

/** Seals `plaintext` under subkey `sealId` of the 32-byte ratchet `key` and moves `key` on to its
 *  subkey `nextId` (see ratchetAead). ciphertext || 16-byte tag. */
export function ratchetSeal(key: Uint8Array, context: Uint8Array, sealId: number, nextId: number,
  nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return ratchetAead(false, key, context, sealId, nextId, nonce, aad, plaintext);
}

/** Opens what ratchetSeal sealed with the same key and moves `key` on likewise; throws
 *  AeadOpenError, leaving `key` unchanged, when it does not open. */
export function ratchetOpen(key: Uint8Array, context: Uint8Array, openId: number, nextId: number,
  nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  return ratchetAead(true, key, context, openId, nextId, nonce, aad, sealed);
}
