// The parts of the raw libsodium build (npm libsodium, Emscripten) that protocol/crypto/sodium.ts
// calls. Pointers are offsets into HEAPU8; 64-bit lengths travel as two 32-bit halves (low, high).
declare module 'libsodium' {
  export interface RawSodium {
    /** Replaced whenever WebAssembly memory grows: read it after any malloc. */
    readonly HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    _sodium_init(): number;
    _crypto_kdf_derive_from_key(subkey: number, subkeyLength: number, id: number, idHigh: number, context: number, key: number): number;
    _crypto_aead_chacha20poly1305_ietf_encrypt(
      ciphertext: number, ciphertextLengthOut: number, message: number, messageLength: number, messageLengthHigh: number,
      aad: number, aadLength: number, aadLengthHigh: number, nsec: number, nonce: number, key: number): number;
    _crypto_aead_chacha20poly1305_ietf_decrypt(
      message: number, messageLengthOut: number, nsec: number, ciphertext: number, ciphertextLength: number, ciphertextLengthHigh: number,
      aad: number, aadLength: number, aadLengthHigh: number, nonce: number, key: number): number;
    _crypto_aead_xchacha20poly1305_ietf_encrypt: RawSodium['_crypto_aead_chacha20poly1305_ietf_encrypt'];
    _crypto_aead_xchacha20poly1305_ietf_decrypt: RawSodium['_crypto_aead_chacha20poly1305_ietf_decrypt'];
  }
  /** Instantiates the WebAssembly module; `getRandomValue` feeds libsodium's own generator. */
  export default function createSodium(options: { getRandomValue(): number }): Promise<RawSodium>;
}
