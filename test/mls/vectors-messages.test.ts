// IETF messages, deserialization and transcript-hashes vectors: the codecs the view relies on decode
// every structure and re-encode it byte for byte; the view's transcript hashing matches.
import test from 'ava';
import type { Decoder } from 'ts-mls/codec/tlsDecoder.js';
import type { Encoder } from 'ts-mls/codec/tlsEncoder.js';
import { decodeGroupSecrets, encodeGroupSecrets } from 'ts-mls/groupSecrets.js';
import * as P from 'ts-mls/proposal.js';
import { decodeCommit, encodeCommit } from 'ts-mls/commit.js';
import { verifyConfirmationTag } from 'ts-mls/framedContent.js';
import { hashFunction } from '../../protocol/mls/hash.js';
import { Reader } from '../../protocol/mls/tls.js';
import { PublicTree } from '../../protocol/mls/tree.js';
import { codec, crypto } from '../../protocol/mls/tsmls.js';
import { MlsErrorCode, MlsValidationError } from '../../protocol/mls/index.js';
import { eachCase, hex, loadVectors, toHexString } from './helpers/vectors.js';

type MessagesVector = Record<string, string>;

function roundTrip<T>(decode: Decoder<T>, encode: Encoder<T>, bytes: Uint8Array): Uint8Array {
  const d = decode(bytes, 0);
  if (d === undefined || d[1] !== bytes.length) throw new Error('decode failed');
  return encode(d[0]);
}

const MLS_MESSAGE_FIELDS = [
  'mls_welcome',
  'mls_group_info',
  'mls_key_package',
  'public_message_application',
  'public_message_proposal',
  'public_message_commit',
  'private_message',
];

const STRUCT_CODECS: Record<string, [Decoder<never>, Encoder<never>]> = {
  group_secrets: [decodeGroupSecrets as Decoder<never>, encodeGroupSecrets as Encoder<never>],
  add_proposal: [P.decodeAdd as Decoder<never>, P.encodeAdd as Encoder<never>],
  update_proposal: [P.decodeUpdate as Decoder<never>, P.encodeUpdate as Encoder<never>],
  remove_proposal: [P.decodeRemove as Decoder<never>, P.encodeRemove as Encoder<never>],
  pre_shared_key_proposal: [P.decodePSK as Decoder<never>, P.encodePSK as Encoder<never>],
  re_init_proposal: [P.decodeReinit as Decoder<never>, P.encodeReinit as Encoder<never>],
  external_init_proposal: [P.decodeExternalInit as Decoder<never>, P.encodeExternalInit as Encoder<never>],
  group_context_extensions_proposal: [P.decodeGroupContextExtensions as Decoder<never>, P.encodeGroupContextExtensions as Encoder<never>],
  commit: [decodeCommit as Decoder<never>, encodeCommit as Encoder<never>],
};

test('messages vectors: MLSMessages decode through the adapter and re-encode byte for byte', (t) => {
  const vectors = loadVectors<MessagesVector>('messages.json');
  for (const [i, v] of vectors.entries())
    for (const field of MLS_MESSAGE_FIELDS) {
      const bytes = hex(v[field]!);
      t.is(toHexString(codec.encodeMessage(codec.decodeMessage(bytes))), v[field] ?? '', `case ${i} ${field}`);
    }
  t.is(vectors.length, 300);
});

test('messages vectors: ratchet trees, group secrets, proposals and commits re-encode byte for byte', (t) => {
  const vectors = loadVectors<MessagesVector>('messages.json');
  const sha256 = hashFunction('SHA-256');
  for (const [i, v] of vectors.entries()) {
    t.is(toHexString(PublicTree.decode(sha256, hex(v.ratchet_tree!)).encode()), v.ratchet_tree ?? '', `case ${i} ratchet_tree`);
    for (const [field, [decode, encode]] of Object.entries(STRUCT_CODECS))
      t.is(toHexString(roundTrip(decode, encode, hex(v[field]!))), v[field] ?? '', `case ${i} ${field}`);
  }
});

test('messages vectors: truncated or padded MLSMessages are refused as Malformed', (t) => {
  const v = loadVectors<MessagesVector>('messages.json')[0]!;
  const bytes = hex(v.public_message_commit!);
  t.is(t.throws<MlsValidationError>(() => codec.decodeMessage(bytes.subarray(0, bytes.length - 1)))?.code, MlsErrorCode.Malformed);
  t.is(t.throws<MlsValidationError>(() => codec.decodeMessage(new Uint8Array([...bytes, 0])))?.code, MlsErrorCode.Malformed);
});

test('deserialization vectors: variable-length vector headers', (t) => {
  for (const v of loadVectors<{ vlbytes_header: string; length: number }>('deserialization.json')) {
    const r = new Reader(hex(v.vlbytes_header));
    t.is(r.varint(), v.length);
    t.true(r.done);
  }
});

interface TranscriptVector {
  cipher_suite: number;
  confirmation_key: string;
  authenticated_content: string;
  interim_transcript_hash_before: string;
  confirmed_transcript_hash_after: string;
  interim_transcript_hash_after: string;
}

test('transcript-hashes vectors', async (t) => {
  const n = await eachCase<TranscriptVector>('transcript-hashes.json', async (v, label, suite) => {
    const ac = codec.decodeAuthenticatedContent(hex(v.authenticated_content));
    if (ac.content.contentType !== 'commit' || ac.auth.contentType !== 'commit') return t.fail('not a commit');
    const confirmed = await crypto.confirmedTranscriptHash(hex(v.interim_transcript_hash_before), ac.wireformat, ac.content, ac.auth.signature, suite);
    t.is(toHexString(confirmed), v.confirmed_transcript_hash_after, `${label} confirmed`);
    const interim = await crypto.interimTranscriptHash(confirmed, ac.auth.confirmationTag, suite);
    t.is(toHexString(interim), v.interim_transcript_hash_after, `${label} interim`);
    t.true(await verifyConfirmationTag(hex(v.confirmation_key), ac.auth.confirmationTag, confirmed, suite.hashImpl), `${label} tag`);
  });
  t.true(n > 0);
});
