// Stateless validity rules for LeafNodes and KeyPackages (RFC 9420 §7.3, §10.1, §12.2), applied to
// everything that enters the tree. Group-wide rules (key uniqueness, credential support) need the tree
// and live here too so one place owns "what may be a member".
import { MlsErrorCode, MlsValidationError, ensure } from './errors.js';
import type { PublicTree } from './tree.js';
import { codec, crypto, extensionNumber, type Extension, type KeyPackage, type LeafNode, type SuiteCrypto, type GroupContext } from './tsmls.js';
import { bytesEqual } from './tls.js';

/** Extension types RFC 9420 defines; they need no capability entry. */
const DEFAULT_EXTENSION_TYPES = new Set([1, 2, 3, 4, 5]);

export interface LeafRules {
  suite: SuiteCrypto;
  groupId: Uint8Array;
  /** Group context extensions in force for the epoch the leaf joins. */
  extensions: Extension[];
  /** Seconds since the epoch; when set, KeyPackage lifetimes are enforced. */
  now?: bigint | undefined;
}

export function requiredCapabilities(extensions: Extension[]) {
  const ext = extensions.find((e) => extensionNumber(e) === 3);
  return ext === undefined ? undefined : codec.decodeRequiredCapabilities(ext.extensionData);
}

/** Capability rules that hold for a leaf regardless of where it came from. */
export function checkLeafCapabilities(leaf: LeafNode, extensions: Extension[], code: MlsErrorCode): void {
  const caps = leaf.capabilities;
  for (const e of leaf.extensions) {
    const n = extensionNumber(e);
    ensure(DEFAULT_EXTENSION_TYPES.has(n) || caps.extensions.includes(n), code, `leaf extension ${n} not in its capabilities`);
  }
  for (const e of extensions) {
    const n = extensionNumber(e);
    ensure(DEFAULT_EXTENSION_TYPES.has(n) || caps.extensions.includes(n), code, `leaf does not support group extension ${n}`);
  }
  const required = requiredCapabilities(extensions);
  if (required !== undefined) {
    ensure(required.extensionTypes.every((t) => DEFAULT_EXTENSION_TYPES.has(t) || caps.extensions.includes(t)), code, 'required extension unsupported');
    ensure(required.proposalTypes.every((t) => t <= 7 || caps.proposals.includes(t)), code, 'required proposal unsupported');
    ensure(required.credentialTypes.every((t) => caps.credentials.includes(t)), code, 'required credential unsupported');
  }
}

/** A LeafNode arriving in an Update proposal or a commit's UpdatePath. */
export async function validateMemberLeaf(leaf: LeafNode, source: 'update' | 'commit', leafIndex: number, rules: LeafRules): Promise<void> {
  ensure(leaf.leafNodeSource === source, MlsErrorCode.InvalidLeafNode, `leaf_node_source must be ${source}`);
  checkLeafCapabilities(leaf, rules.extensions, MlsErrorCode.InvalidLeafNode);
  ensure(await crypto.verifyLeafNode(leaf, rules.groupId, leafIndex, rules.suite), MlsErrorCode.InvalidSignature, `leaf ${leafIndex} signature`);
}

/** A KeyPackage in an Add proposal (RFC 9420 §10.1, §12.2). */
export async function validateKeyPackage(kp: KeyPackage, context: GroupContext, rules: LeafRules): Promise<void> {
  ensure(kp.cipherSuite === context.cipherSuite, MlsErrorCode.InvalidKeyPackage, 'KeyPackage ciphersuite differs from the group');
  ensure(kp.version === context.version, MlsErrorCode.InvalidKeyPackage, 'KeyPackage version differs from the group');
  const leaf = kp.leafNode;
  ensure(leaf.leafNodeSource === 'key_package', MlsErrorCode.InvalidKeyPackage, 'leaf_node_source must be key_package');
  ensure(!bytesEqual(kp.initKey, leaf.hpkePublicKey), MlsErrorCode.InvalidKeyPackage, 'init key equals encryption key');
  checkLeafCapabilities(leaf, rules.extensions, MlsErrorCode.InvalidKeyPackage);
  if (rules.now !== undefined)
    ensure(leaf.lifetime.notBefore <= rules.now && rules.now <= leaf.lifetime.notAfter, MlsErrorCode.InvalidKeyPackage, 'KeyPackage outside its lifetime');
  ensure(await crypto.verifyKeyPackage(kp, rules.suite), MlsErrorCode.InvalidSignature, 'KeyPackage signature');
  ensure(await crypto.verifyKeyPackageLeaf(leaf, rules.suite), MlsErrorCode.InvalidSignature, 'KeyPackage leaf signature');
}

/**
 * Credential types must be mutually supported: each of `leafIndices` supports every credential type in
 * use, and every member supports theirs (RFC 9420 §7.3). Uses the tree's incremental counts, so a
 * commit costs O(changed leaves), not O(members).
 */
export function checkCredentialSupport(tree: PublicTree, leafIndices: Iterable<number>): void {
  const counts = tree.credentialCounts();
  for (const i of leafIndices) {
    const leaf = tree.leaf(i)?.leaf;
    if (leaf === undefined) continue;
    const own = new Set<string>(leaf.capabilities.credentials);
    for (const [t, users] of counts.inUse) if (users > 0) ensure(own.has(t), MlsErrorCode.InvalidLeafNode, `leaf ${i} does not support credential ${t}`);
    ensure(
      counts.supported.get(leaf.credential.credentialType) === counts.leaves,
      MlsErrorCode.InvalidLeafNode,
      `credential of leaf ${i} not supported by every member`,
    );
  }
}

/** Signature of every leaf of a received tree, each under its own source's rules. */
export async function verifyTreeLeaves(tree: PublicTree, groupId: Uint8Array, suite: SuiteCrypto): Promise<void> {
  for (const [i, node] of tree.leaves()) {
    const leaf = node.leaf;
    const ok =
      leaf.leafNodeSource === 'key_package'
        ? await crypto.verifyKeyPackageLeaf(leaf, suite)
        : await crypto.verifyLeafNode(leaf, groupId, i, suite);
    if (!ok) throw new MlsValidationError(MlsErrorCode.InvalidSignature, `leaf ${i} signature`);
  }
}

/** Everything a joiner checks about a tree it did not build (RFC 9420 §12.4.3.1). */
export async function validateWholeTree(tree: PublicTree, context: GroupContext, rules: LeafRules): Promise<void> {
  ensure(tree.verifyUnmergedLeaves(), MlsErrorCode.InvalidTree, 'unmerged_leaves are inconsistent');
  ensure(bytesEqual(tree.treeHash(), context.treeHash), MlsErrorCode.TreeHashMismatch, 'tree hash differs from the group context');
  ensure(tree.verifyParentHashes(), MlsErrorCode.InvalidParentHash, 'parent hashes do not verify');
  await verifyTreeLeaves(tree, context.groupId, rules.suite);
  const all: number[] = [];
  for (const [i, n] of tree.leaves()) {
    checkLeafCapabilities(n.leaf, context.extensions, MlsErrorCode.InvalidLeafNode);
    all.push(i);
  }
  checkCredentialSupport(tree, all);
  const nodes = [...Array(tree.nodeCount).keys()];
  tree.checkKeyUniqueness(nodes);
}
