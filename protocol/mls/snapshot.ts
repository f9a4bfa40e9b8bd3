// Compact binary snapshot of a view. Loading must be cheap because the DS loads a group every time its
// actor is activated: nodes are kept as slices of the snapshot (decoded only when looked at) and every
// cached tree hash is stored, so nothing is re-hashed or re-verified on load. The snapshot is trusted
// input (the DS wrote it), so loading skips the checks a received tree goes through.
//
//   "MPV" u8(version=1) u16(suite) <context> <interim> u8(flags: 1 = reinitialised) optional<groupInfo>
//   u32(nodes) { u8(kind: 0 blank, 1 leaf, 2 parent) [<bytes>] }*  hash[nodes] (fixed width)
//   u32(proposals) { <ref> <AuthenticatedContent> optional<u32 senderLeaf> }*
// where <x> is opaque<V>.
import { MlsErrorCode, MlsValidationError } from './errors.js';
import { hashFunction } from './hash.js';
import { TreeNode } from './node.js';
import type { StoredProposal, ViewState } from './state.js';
import { Reader, Writer, toHex } from './tls.js';
import { PublicTree } from './tree.js';
import { codec, suiteFromId } from './tsmls.js';

const MAGIC = [0x4d, 0x50, 0x56];
const VERSION = 1;
const KIND = { blank: 0, leaf: 1, parent: 2 } as const;
const FLAG_REINITIALIZED = 1;

export function encodeSnapshot(s: ViewState): Uint8Array {
  const w = new Writer();
  for (const b of MAGIC) w.u8(b);
  w.u8(VERSION).u16(s.suite.id).vec(s.contextBytes).vec(s.interimTranscriptHash).u8(s.reinitialized ? FLAG_REINITIALIZED : 0);
  if (s.groupInfo === undefined) w.u8(0);
  else w.u8(1).vec(s.groupInfo);
  const tree = s.tree;
  const hashes = tree.allHashes();
  w.u32(tree.nodeCount);
  for (let i = 0; i < tree.nodeCount; i++) {
    const n = tree.node(i);
    if (n === undefined) w.u8(KIND.blank);
    else w.u8(n.kind === 'leaf' ? KIND.leaf : KIND.parent).vec(n.bytes);
  }
  for (const h of hashes) w.raw(h);
  w.u32(s.proposals.size);
  for (const p of s.proposals.values()) {
    w.vec(p.ref).vec(codec.encodeAuthenticatedContent(p.content));
    if (p.senderLeaf === undefined) w.u8(0);
    else w.u8(1).u32(p.senderLeaf);
  }
  return w.finish();
}

export async function decodeSnapshot(bytes: Uint8Array): Promise<ViewState> {
  try {
    return await readSnapshot(bytes);
  } catch (e) {
    if (e instanceof MlsValidationError && e.code === MlsErrorCode.InvalidSnapshot) throw e;
    throw new MlsValidationError(MlsErrorCode.InvalidSnapshot, e instanceof Error ? e.message : String(e));
  }
}

async function readSnapshot(bytes: Uint8Array): Promise<ViewState> {
  const r = new Reader(bytes);
  for (const b of MAGIC) if (r.u8() !== b) throw new MlsValidationError(MlsErrorCode.InvalidSnapshot, 'not a view snapshot');
  if (r.u8() !== VERSION) throw new MlsValidationError(MlsErrorCode.InvalidSnapshot, 'unknown snapshot version');
  const suite = await suiteFromId(r.u16());
  const contextBytes = r.vec();
  const context = codec.decodeGroupContext(contextBytes);
  const interimTranscriptHash = r.vec();
  const flags = r.u8();
  const groupInfo = r.u8() === 1 ? r.vec() : undefined;
  const count = r.u32();
  const nodes: (TreeNode | undefined)[] = new Array<TreeNode | undefined>(count);
  for (let i = 0; i < count; i++) {
    const kind = r.u8();
    nodes[i] = kind === KIND.blank ? undefined : TreeNode.fromBytes(kind === KIND.leaf ? 'leaf' : 'parent', r.vec());
  }
  const hash = hashFunction(suite.hashAlgorithm);
  const width = hash(new Uint8Array(0)).length;
  const hashes: Uint8Array[] = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) hashes[i] = r.raw(width);
  const proposals = new Map<string, StoredProposal>();
  for (let n = r.u32(); n > 0; n--) {
    const ref = r.vec();
    const content = codec.decodeAuthenticatedContent(r.vec());
    const senderLeaf = r.u8() === 1 ? r.u32() : undefined;
    if (content.content.contentType !== 'proposal') throw new MlsValidationError(MlsErrorCode.InvalidSnapshot, 'stored non-proposal');
    proposals.set(toHex(ref), { ref, content, proposal: content.content.proposal, senderLeaf });
  }
  r.end();
  return {
    suite,
    hash,
    context,
    contextBytes,
    interimTranscriptHash,
    tree: PublicTree.fromNodes(hash, nodes, hashes),
    proposals,
    groupInfo,
    reinitialized: (flags & FLAG_REINITIALIZED) !== 0,
  };
}
