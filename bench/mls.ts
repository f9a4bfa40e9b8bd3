// Benchmark of the MLS public view: a full commit with an update path at 10, 100 and 1000 members,
// and loading a view snapshot. Building 1000 real clients would take minutes, so the group is
// synthesised: a full tree in which every member has committed once (left to right, so every parent
// node is covered by a parent-hash chain), with real Ed25519 signatures on every leaf and commit.
// Path ciphertexts are random bytes of the right count: the view only counts them.
import { randomBytes } from 'node:crypto';
import { encodeMlsMessage } from 'ts-mls/message.js';
import { encodeGroupContext, type GroupContext } from 'ts-mls/groupContext.js';
import { encodeLeafNodeTBS, type LeafNodeCommit } from 'ts-mls/leafNode.js';
import { signWithLabel } from 'ts-mls/crypto/signature.js';
import { signFramedContentTBS, toTbs, type FramedContent } from 'ts-mls/framedContent.js';
import { defaultCapabilities } from 'ts-mls/defaultCapabilities.js';
import { getCiphersuiteFromName, type CiphersuiteImpl } from 'ts-mls/crypto/ciphersuite.js';
import { getCiphersuiteImpl } from 'ts-mls/crypto/getCiphersuiteImpl.js';
import { nobleCryptoProvider } from 'ts-mls/crypto/implementation/noble/provider.js';
import { PublicGroupView } from '../protocol/mls/index.js';
import { hashFunction } from '../protocol/mls/hash.js';
import { TreeNode } from '../protocol/mls/node.js';
import { PublicTree } from '../protocol/mls/tree.js';

const SIZES = [10, 100, 1000] as const;
const COMMITS = 30;
const WARMUP = 10;

interface Member {
  signKey: Uint8Array;
  publicKey: Uint8Array;
}

// Any 32 bytes are an X25519 public key, and nobody decrypts here.
const hpkeKey = (): Uint8Array => randomBytes(32);

async function signedLeaf(cs: CiphersuiteImpl, m: Member, groupId: Uint8Array, leafIndex: number, parentHash: Uint8Array): Promise<LeafNodeCommit> {
  const data = {
    hpkePublicKey: hpkeKey(),
    signaturePublicKey: m.publicKey,
    credential: { credentialType: 'basic' as const, identity: new TextEncoder().encode(`member-${leafIndex}`) },
    capabilities: defaultCapabilities(),
    leafNodeSource: 'commit' as const,
    parentHash,
    extensions: [],
  };
  const signature = await signWithLabel(m.signKey, 'LeafNodeTBS', encodeLeafNodeTBS({ ...data, groupId, leafIndex }), cs.signature);
  return { ...data, signature };
}

/** Installs a commit path for `leaf` in `tree` and returns the signed leaf and the path keys. */
async function commitPath(cs: CiphersuiteImpl, tree: PublicTree, m: Member, groupId: Uint8Array, leaf: number) {
  const fdp = tree.filteredDirectPath(leaf);
  const keys = fdp.map(() => hpkeKey());
  const probe = tree.clone();
  const parentHash = probe.applyPath(leaf, TreeNode.leaf((tree.leaf(leaf) ?? tree.leaf(0))!.leaf), keys, fdp);
  const leafNode = await signedLeaf(cs, m, groupId, leaf, parentHash);
  tree.applyPath(leaf, TreeNode.leaf(leafNode), keys, fdp);
  return { leafNode, keys, fdp };
}

async function buildGroup(cs: CiphersuiteImpl, size: number) {
  const groupId = randomBytes(16);
  const members: Member[] = [];
  for (let i = 0; i < size; i++) {
    const { signKey, publicKey } = await cs.signature.keygen();
    members.push({ signKey, publicKey });
  }
  const hash = hashFunction('SHA-256');
  let width = 1;
  while ((width + 1) / 2 < size) width = width * 2 + 1;
  const tree = PublicTree.fromNodes(hash, new Array<TreeNode | undefined>(width).fill(undefined));
  // Leaves first (a commit path needs the other leaves in place), then one commit per member.
  for (let i = 0; i < size; i++) tree.replaceLeaf(i, TreeNode.leaf(await signedLeaf(cs, members[i]!, groupId, i, new Uint8Array())));
  for (let i = 0; i < size; i++) await commitPath(cs, tree, members[i]!, groupId, i);
  const context: GroupContext = {
    version: 'mls10',
    cipherSuite: 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519',
    groupId,
    epoch: BigInt(size),
    treeHash: tree.treeHash(),
    confirmedTranscriptHash: randomBytes(32),
    extensions: [],
  };
  const view = await PublicGroupView.fromGroupContext(encodeGroupContext(context), tree.encode(), randomBytes(32));
  return { view, members, tree };
}

/** A signed commit with a full path by `committer`; returns it with the tree it leads to. */
async function commitMessage(cs: CiphersuiteImpl, view: PublicGroupView, tree: PublicTree, members: Member[], committer: number) {
  const next = tree.clone();
  const { leafNode, keys, fdp } = await commitPath(cs, next, members[committer]!, view.groupId, committer);
  const nodes = fdp.map((f, j) => ({
    hpkePublicKey: keys[j]!,
    encryptedPathSecret: tree.resolution(f.copathChild).map(() => ({ kemOutput: randomBytes(32), ciphertext: randomBytes(48) })),
  }));
  const content: FramedContent = {
    groupId: view.groupId,
    epoch: view.epoch,
    sender: { senderType: 'member', leafIndex: committer },
    authenticatedData: new Uint8Array(),
    contentType: 'commit',
    commit: { proposals: [], path: { leafNode, nodes } },
  };
  const signature = await signFramedContentTBS(members[committer]!.signKey, toTbs(content, 'mls_public_message', view.groupContext), cs.signature);
  const message = encodeMlsMessage({
    version: 'mls10',
    wireformat: 'mls_public_message',
    publicMessage: { content, auth: { contentType: 'commit', signature, confirmationTag: randomBytes(32) }, senderType: 'member', membershipTag: randomBytes(32) },
  });
  return { message, next };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.floor(s.length / 2)]!.toFixed(3));
};

export default async function (): Promise<{ commit_ms: Record<string, number>; snapshot_load_ms: Record<string, number> }> {
  const cs = await getCiphersuiteImpl(getCiphersuiteFromName('MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519'), nobleCryptoProvider);
  const groups = [];
  for (const size of SIZES) groups.push({ size, ...(await buildGroup(cs, size)), times: [] as number[], loads: [] as number[] });
  // Sizes take turns, so background load on the machine falls on all of them alike.
  for (let k = 0; k < COMMITS + WARMUP; k++)
    for (const g of groups) {
      const { message, next } = await commitMessage(cs, g.view, g.tree, g.members, (k * 7919) % g.size);
      const start = performance.now();
      const result = await g.view.process(message);
      const elapsed = performance.now() - start;
      g.view = result.view;
      g.tree = next;
      if (k >= WARMUP) g.times.push(elapsed); // the first commits warm the JIT and the lazy indexes
    }
  const loaded = groups.filter((g) => g.size >= 100);
  const snapshots = loaded.map((g) => g.view.snapshot());
  for (let k = 0; k < 20; k++)
    for (const [i, g] of loaded.entries()) {
      const start = performance.now();
      await PublicGroupView.loadSnapshot(snapshots[i]!);
      g.loads.push(performance.now() - start);
    }
  return {
    commit_ms: Object.fromEntries(groups.map((g) => [String(g.size), median(g.times)])),
    snapshot_load_ms: Object.fromEntries(loaded.map((g) => [String(g.size), median(g.loads)])),
  };
}
