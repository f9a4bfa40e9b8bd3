// The one module that reaches into ts-mls 1.6.4 internals. Everything the public view needs from the
// library (wire codecs, labelled signature checks, references, transcript hashes, suite lookup) goes
// through here, so a ts-mls upgrade touches one file. Decoders are wrapped to refuse trailing bytes and
// to throw the view's typed error instead of returning undefined.
import type { Decoder } from 'ts-mls/codec/tlsDecoder.js';
import { decodeMlsMessage as tsDecodeMlsMessage, encodeMlsMessage as tsEncodeMlsMessage } from 'ts-mls/message.js';
import type { MLSMessage } from 'ts-mls/message.js';
import { decodeGroupInfo as tsDecodeGroupInfo, encodeGroupInfo, encodeGroupInfoTBS, verifyGroupInfoSignature } from 'ts-mls/groupInfo.js';
import type { GroupInfo } from 'ts-mls/groupInfo.js';
import { decodeGroupContext as tsDecodeGroupContext, encodeGroupContext } from 'ts-mls/groupContext.js';
import type { GroupContext } from 'ts-mls/groupContext.js';
import { decodeLeafNode, encodeLeafNode, verifyLeafNodeSignature, verifyLeafNodeSignatureKeyPackage } from 'ts-mls/leafNode.js';
import type { LeafNode, LeafNodeKeyPackage } from 'ts-mls/leafNode.js';
import { encodeKeyPackage, makeKeyPackageRef, verifyKeyPackage } from 'ts-mls/keyPackage.js';
import type { KeyPackage } from 'ts-mls/keyPackage.js';
import { decodeCredential, encodeCredential } from 'ts-mls/credential.js';
import type { Credential } from 'ts-mls/credential.js';
import { decodeAuthenticatedContent as tsDecodeAuthenticatedContent, encodeAuthenticatedContent, makeProposalRef } from 'ts-mls/authenticatedContent.js';
import type { AuthenticatedContent } from 'ts-mls/authenticatedContent.js';
import { verifyFramedContentSignature } from 'ts-mls/framedContent.js';
import type { FramedContent, FramedContentAuthData, FramedContentCommit } from 'ts-mls/framedContent.js';
import { createConfirmedHash, createInterimHash } from 'ts-mls/transcriptHash.js';
import { decodeRequiredCapabilities } from 'ts-mls/requiredCapabilities.js';
import type { RequiredCapabilities } from 'ts-mls/requiredCapabilities.js';
import { encodeProposal } from 'ts-mls/proposal.js';
import type { Proposal } from 'ts-mls/proposal.js';
import { extensionTypeToNumber } from 'ts-mls/extension.js';
import type { Extension } from 'ts-mls/extension.js';
import { getCiphersuiteFromId, getCiphersuiteNameFromId, ciphersuites } from 'ts-mls/crypto/ciphersuite.js';
import type { CiphersuiteImpl, CiphersuiteName, CiphersuiteId } from 'ts-mls/crypto/ciphersuite.js';
import { makeHashImpl } from 'ts-mls/crypto/implementation/noble/makeHashImpl.js';
import { makeNobleSignatureImpl } from 'ts-mls/crypto/implementation/noble/makeNobleSignatureImpl.js';
import type { Hash } from 'ts-mls/crypto/hash.js';
import type { Signature } from 'ts-mls/crypto/signature.js';
import { pskIdEncoder } from 'ts-mls/presharedkey.js';
import type { PreSharedKeyID } from 'ts-mls/presharedkey.js';
import { encode } from 'ts-mls/codec/tlsEncoder.js';
import { MlsErrorCode, MlsValidationError } from './errors.js';

export type {
  MLSMessage,
  GroupInfo,
  GroupContext,
  LeafNode,
  LeafNodeKeyPackage,
  KeyPackage,
  Credential,
  AuthenticatedContent,
  FramedContent,
  FramedContentAuthData,
  FramedContentCommit,
  Proposal,
  Extension,
  CiphersuiteImpl,
  CiphersuiteName,
  RequiredCapabilities,
};
export type { Commit } from 'ts-mls/commit.js';
export type { UpdatePath } from 'ts-mls/updatePath.js';
export type { PublicMessage } from 'ts-mls/publicMessage.js';
export type { PrivateMessage } from 'ts-mls/privateMessage.js';
export type { Welcome } from 'ts-mls/welcome.js';
export type { Sender } from 'ts-mls/sender.js';
export type { Capabilities } from 'ts-mls/capabilities.js';

/** ts-mls decoders read through the whole underlying ArrayBuffer, so views into larger buffers are copied. */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function decodeAll<T>(decoder: Decoder<T>, bytes: Uint8Array, what: string): T {
  let result: [T, number] | undefined;
  try {
    result = decoder(own(bytes), 0);
  } catch {
    result = undefined;
  }
  if (result === undefined) throw new MlsValidationError(MlsErrorCode.Malformed, `cannot decode ${what}`);
  if (result[1] !== bytes.length) throw new MlsValidationError(MlsErrorCode.Malformed, `trailing bytes after ${what}`);
  return result[0];
}

/** Decodes a value that starts at `offset` and returns it with the offset just past it. */
function decodeAt<T>(decoder: Decoder<T>, bytes: Uint8Array, offset: number, what: string): [T, number] {
  let result: [T, number] | undefined;
  try {
    result = decoder(own(bytes), offset);
  } catch {
    result = undefined;
  }
  if (result === undefined) throw new MlsValidationError(MlsErrorCode.Malformed, `cannot decode ${what}`);
  // ts-mls decoders report the number of bytes consumed, not the end offset.
  return [result[0], offset + result[1]];
}

export const codec = {
  decodeMessage: (b: Uint8Array): MLSMessage => decodeAll(tsDecodeMlsMessage, b, 'MLSMessage'),
  encodeMessage: (m: MLSMessage): Uint8Array => tsEncodeMlsMessage(m),
  decodeGroupInfo: (b: Uint8Array): GroupInfo => decodeAll(tsDecodeGroupInfo, b, 'GroupInfo'),
  encodeGroupInfo: (g: GroupInfo): Uint8Array => encodeGroupInfo(g),
  encodeGroupInfoTbs: (g: GroupInfo): Uint8Array => encodeGroupInfoTBS(g),
  decodeGroupContext: (b: Uint8Array): GroupContext => decodeAll(tsDecodeGroupContext, b, 'GroupContext'),
  encodeGroupContext: (g: GroupContext): Uint8Array => encodeGroupContext(g),
  decodeLeafNode: (b: Uint8Array): LeafNode => decodeAll(decodeLeafNode, b, 'LeafNode'),
  decodeLeafNodeAt: (b: Uint8Array, offset: number): [LeafNode, number] => decodeAt(decodeLeafNode, b, offset, 'LeafNode'),
  encodeLeafNode: (l: LeafNode): Uint8Array => encodeLeafNode(l),
  encodeKeyPackage: (k: KeyPackage): Uint8Array => encodeKeyPackage(k),
  decodeCredentialAt: (b: Uint8Array, offset: number): [Credential, number] => decodeAt(decodeCredential, b, offset, 'Credential'),
  encodeCredential: (c: Credential): Uint8Array => encodeCredential(c),
  decodeAuthenticatedContent: (b: Uint8Array): AuthenticatedContent =>
    decodeAll(tsDecodeAuthenticatedContent, b, 'AuthenticatedContent'),
  encodeAuthenticatedContent: (a: AuthenticatedContent): Uint8Array => encodeAuthenticatedContent(a),
  decodeRequiredCapabilities: (b: Uint8Array): RequiredCapabilities =>
    decodeAll(decodeRequiredCapabilities, b, 'required_capabilities'),
  encodeProposal: (p: Proposal): Uint8Array => encodeProposal(p),
  encodePskId: (id: PreSharedKeyID): Uint8Array => encode(pskIdEncoder)(id),
};

export const extensionNumber = (e: Extension): number => extensionTypeToNumber(e.extensionType);

/**
 * The part of a ciphersuite a public view uses: signatures and hashes, from ts-mls's noble provider
 * (the DS profile's fast path). No HPKE or KDF: the view holds no secrets, and skipping HPKE keeps
 * suites whose KEM needs optional packages (X448) verifiable.
 */
export interface SuiteCrypto {
  id: number;
  name: CiphersuiteName;
  signature: Signature;
  hashImpl: Hash;
  hashAlgorithm: 'SHA-256' | 'SHA-384' | 'SHA-512';
}

const suiteCache = new Map<number, Promise<SuiteCrypto>>();

export function suiteFromName(name: CiphersuiteName): Promise<SuiteCrypto> {
  return suiteFromId(ciphersuites[name]);
}

export function suiteFromId(id: number): Promise<SuiteCrypto> {
  let cached = suiteCache.get(id);
  if (cached === undefined) {
    cached = (async () => {
      const known = Object.values(ciphersuites) as number[];
      if (!known.includes(id)) throw new MlsValidationError(MlsErrorCode.UnsupportedCiphersuite, `ciphersuite ${id}`);
      const cs = getCiphersuiteFromId(id as CiphersuiteId);
      const signature = await makeNobleSignatureImpl(cs.signature);
      return { id, name: getCiphersuiteNameFromId(id as CiphersuiteId), signature, hashImpl: makeHashImpl(cs.hash), hashAlgorithm: cs.hash };
    })();
    cached.catch(() => suiteCache.delete(id));
    suiteCache.set(id, cached);
  }
  return cached;
}

/** Malformed keys or signatures make the primitives throw; for untrusted input that is just "invalid". */
async function verified(check: () => Promise<boolean>): Promise<boolean> {
  try {
    return await check();
  } catch {
    return false;
  }
}

export const crypto = {
  verifyLeafNode: (leaf: LeafNode, groupId: Uint8Array, leafIndex: number, s: SuiteCrypto): Promise<boolean> =>
    verified(() => verifyLeafNodeSignature(leaf, groupId, leafIndex, s.signature)),
  verifyKeyPackageLeaf: (leaf: LeafNodeKeyPackage, s: SuiteCrypto): Promise<boolean> =>
    verified(() => verifyLeafNodeSignatureKeyPackage(leaf, s.signature)),
  verifyKeyPackage: (kp: KeyPackage, s: SuiteCrypto): Promise<boolean> => verified(() => verifyKeyPackage(kp, s.signature)),
  keyPackageRef: (kp: KeyPackage, s: SuiteCrypto): Promise<Uint8Array> => makeKeyPackageRef(kp, s.hashImpl),
  proposalRef: (content: AuthenticatedContent, s: SuiteCrypto): Promise<Uint8Array> => makeProposalRef(content, s.hashImpl),
  verifyContent: (
    signKey: Uint8Array,
    wireformat: AuthenticatedContent['wireformat'],
    content: FramedContent,
    auth: FramedContentAuthData,
    context: GroupContext,
    s: SuiteCrypto,
  ): Promise<boolean> => verified(() => verifyFramedContentSignature(signKey, wireformat, content, auth, context, s.signature)),
  verifyGroupInfo: (gi: GroupInfo, signKey: Uint8Array, s: SuiteCrypto): Promise<boolean> =>
    verified(() => verifyGroupInfoSignature(gi, signKey, s.signature)),
  confirmedTranscriptHash: (
    interim: Uint8Array,
    wireformat: AuthenticatedContent['wireformat'],
    content: FramedContentCommit,
    signature: Uint8Array,
    s: SuiteCrypto,
  ): Promise<Uint8Array> => createConfirmedHash(interim, { wireformat, content, signature }, s.hashImpl),
  interimTranscriptHash: (confirmed: Uint8Array, tag: Uint8Array, s: SuiteCrypto): Promise<Uint8Array> =>
    createInterimHash(confirmed, tag, s.hashImpl),
};
