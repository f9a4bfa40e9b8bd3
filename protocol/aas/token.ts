// Privacy Pass token type 2 (RFC 9578 §6: publicly verifiable, blind RSA-2048, RSABSSA-SHA384-PSS-
// Deterministic) with node's native RSA: blind signing is a raw RSA private operation and redemption an
// RSASSA-PSS verification, both in OpenSSL (the JS blind RSA library is far slower; docs/as-aas.md).
// The client side (blinding, finalizing) uses @cloudflare/privacypass-ts, see client/aas.ts.
import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, verify, type KeyObject } from 'node:crypto';
import { TokenChallenge, publicVerif } from '@cloudflare/privacypass-ts';
import { badRequest } from '../errors.js';
import { constantTimeEqual, sha256 } from '../crypto/index.js';

export const TOKEN_TYPE = 0x0002;
const NK = 256; // RSA-2048 modulus bytes
const NONCE_BYTES = 32;
const DIGEST_BYTES = 32;
const KEY_ID_BYTES = 32;
/** token_type || nonce || challenge_digest || token_key_id: the signed token input. */
const INPUT_BYTES = 2 + NONCE_BYTES + DIGEST_BYTES + KEY_ID_BYTES;
export const TOKEN_BYTES = INPUT_BYTES + NK;
export const TOKEN_REQUEST_BYTES = 2 + 1 + NK;

/** The one challenge every token of a homeserver answers: issuer and origin are its domain, with no
 *  redemption context, so tokens are interchangeable (a client can fetch them ahead of time) and
 *  carry nothing that links a redemption to an issuance. */
export function challengeFor(domain: string): Uint8Array {
  return new TokenChallenge(TOKEN_TYPE, domain, new Uint8Array(), [domain]).serialize();
}

export interface IssuerKeyMaterial {
  /** PKCS#8 DER of the RSA private key (stored sealed under the operator key). */
  privateKeyDer: Uint8Array;
  /** The RFC 9578 token key: SPKI of the public key with the RSASSA-PSS OID. */
  tokenKey: Uint8Array;
  tokenKeyId: Uint8Array;
}

export function generateIssuerKey(): IssuerKeyMaterial {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const tokenKey = publicVerif.convertEncToRSASSAPSS(spki);
  return { privateKeyDer: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' })), tokenKey, tokenKeyId: sha256(tokenKey) };
}

/** An issuer key loaded for signing. */
export class BlindSigner {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor(privateKeyDer: Uint8Array, readonly tokenKeyId: Uint8Array) {
    this.privateKey = createPrivateKey({ key: Buffer.from(privateKeyDer), format: 'der', type: 'pkcs8' });
    this.publicKey = createPublicKey(this.privateKey);
  }

  /** Signs one RFC 9578 TokenRequest; returns the TokenResponse (the blind signature). */
  sign(tokenRequest: Uint8Array): Uint8Array {
    if (tokenRequest.length !== TOKEN_REQUEST_BYTES) throw badRequest(`a token request is ${TOKEN_REQUEST_BYTES} bytes`);
    if (((tokenRequest[0]! << 8) | tokenRequest[1]!) !== TOKEN_TYPE) throw badRequest('only token type 2 (blind RSA) is issued');
    if (tokenRequest[2] !== this.tokenKeyId[KEY_ID_BYTES - 1]) throw badRequest('token request is for another issuer key');
    const blinded = tokenRequest.subarray(3);
    let signature: Buffer;
    try {
      // Raw RSA: s = m^d mod n (OpenSSL uses CRT and its own blinding); fails when m >= n.
      signature = privateDecrypt({ key: this.privateKey, padding: constants.RSA_NO_PADDING }, blinded);
    } catch {
      throw badRequest('token request blinded message is out of range');
    }
    // RFC 9474 §4.3 step 3: check s^e = m before releasing s, so a faulty computation never leaks the key.
    const check = publicEncrypt({ key: this.publicKey, padding: constants.RSA_NO_PADDING }, signature);
    if (!constantTimeEqual(new Uint8Array(check), blinded)) throw new Error('blind signature failed its self-check');
    return new Uint8Array(signature);
  }
}

export interface ParsedToken {
  nonce: Uint8Array;
  challengeDigest: Uint8Array;
  tokenKeyId: Uint8Array;
  input: Uint8Array;
  authenticator: Uint8Array;
}

/** Splits a type 2 token, or returns undefined when it is not one. */
export function parseToken(bytes: Uint8Array): ParsedToken | undefined {
  if (bytes.length !== TOKEN_BYTES || ((bytes[0]! << 8) | bytes[1]!) !== TOKEN_TYPE) return undefined;
  const digestAt = 2 + NONCE_BYTES;
  const keyIdAt = digestAt + DIGEST_BYTES;
  return {
    nonce: bytes.subarray(2, digestAt),
    challengeDigest: bytes.subarray(digestAt, keyIdAt),
    tokenKeyId: bytes.subarray(keyIdAt, INPUT_BYTES),
    input: bytes.subarray(0, INPUT_BYTES),
    authenticator: bytes.subarray(INPUT_BYTES),
  };
}

/** A token key loaded for verification (from its RFC 9578 SPKI form). */
export class TokenVerifier {
  private readonly key: { key: KeyObject; padding: number; saltLength: number };

  constructor(tokenKey: Uint8Array) {
    const publicKey = createPublicKey({ key: Buffer.from(publicVerif.convertRSASSAPSSToEnc(tokenKey)), format: 'der', type: 'spki' });
    this.key = { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 };
  }

  verify(token: ParsedToken): boolean {
    return verify('sha384', token.input, this.key, token.authenticator);
  }

  /** The same check on libuv's thread pool: the calling thread only hands it over (a third of the
   *  CPU of `verify` there), so a gateway verifies on the other cores while it serves requests. */
  verifyAsync(token: ParsedToken): Promise<boolean> {
    return new Promise((resolve, reject) => {
      verify('sha384', token.input, this.key, token.authenticator, (error, valid) => (error ? reject(error) : resolve(valid)));
    });
  }
}

const CANONICAL_PREFIX = 'PrivateToken token="';
/** Base64 characters of a type 2 token (354 bytes, a multiple of 3: no padding). */
const TOKEN_CHARS = (TOKEN_BYTES / 3) * 4;

/** The token from `Authorization: PrivateToken token=<base64url>` (RFC 9577 §2.2.2), quoted or not. */
export function tokenFromAuthorization(header: string | undefined): Uint8Array | undefined {
  if (!header) return undefined;
  // The form the SDK sends, without a regular expression: exactly one token's worth of characters
  // between the quotes. They decode to TOKEN_BYTES only if every one is a base64 character (the
  // decoder skips others); anything else takes the general path below.
  if (header.length === CANONICAL_PREFIX.length + TOKEN_CHARS + 1 && header.startsWith(CANONICAL_PREFIX) && header.endsWith('"')) {
    const bytes = Buffer.from(header.slice(CANONICAL_PREFIX.length, -1), 'base64url');
    if (bytes.length === TOKEN_BYTES) return bytes;
  }
  const match = /^\s*PrivateToken\s+(?:.*?[\s,])?token="?([A-Za-z0-9_\-+/]+=*)"?\s*(?:,|$)/i.exec(header);
  if (!match) return undefined;
  // The base64url decoder also takes the standard alphabet (+ and /).
  return new Uint8Array(Buffer.from(match[1]!, 'base64url'));
}

export function authorizationHeader(token: Uint8Array): string {
  return `PrivateToken token="${Buffer.from(token).toString('base64url')}"`;
}

/** `WWW-Authenticate` for a 401 (RFC 9577 §2.1): the challenge and the current token key. */
export function challengeHeader(challenge: Uint8Array, tokenKey: Uint8Array): string {
  return `PrivateToken challenge="${Buffer.from(challenge).toString('base64url')}", token-key="${Buffer.from(tokenKey).toString('base64url')}"`;
}

export const challengeDigestOf = (challenge: Uint8Array): Uint8Array => sha256(challenge);
