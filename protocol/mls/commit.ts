// Commit validation and application without any group secret (RFC 9420 §12.4.2, as OpenMLS's
// PublicGroup does it): resolve and check the proposal list, apply it to a cloned tree, check the update
// path (ciphertext counts, public keys, parent hashes), key uniqueness, and derive the next GroupContext
// with its transcript hashes. The confirmation tag cannot be checked without the epoch secret; the
// committer-signed GroupInfo that travels with the commit binds it instead (see groupinfo.ts).
import { MlsErrorCode, MlsValidationError, ensure } from './errors.js';
import { TreeNode } from './node.js';
import { leafRules, validateProposal } from './proposals.js';
import { authenticate } from './sender.js';
import { epochState, type ViewState } from './state.js';
import type { PublicTree } from './tree.js';
import { bytesEqual, toHex } from './tls.js';
import * as tm from './treemath.js';
import {
  codec,
  crypto,
  type Extension,
  type FramedContent,
  type FramedContentAuthData,
  type KeyPackage,
  type Proposal,
  type UpdatePath,
} from './tsmls.js';
import { checkCredentialSupport, checkLeafCapabilities, validateMemberLeaf } from './validate.js';

export interface CommitOutcome {
  /** Leaf index of the committer in the new epoch (the joiner's new leaf for an external commit). */
  committer: number;
  external: boolean;
  added: { leafIndex: number; keyPackageRef: Uint8Array }[];
  removed: number[];
  updated: number[];
  groupContextExtensions: boolean;
  reinit: boolean;
}

interface Resolved {
  proposal: Proposal;
  /** Member who proposed it; for by-value proposals the committer (undefined for an external joiner). */
  senderLeaf: number | undefined;
  byReference: boolean;
}

type CommitContent = FramedContent & { contentType: 'commit' };

function resolveProposals(state: ViewState, content: CommitContent, committer: number | undefined): Resolved[] {
  return content.commit.proposals.map((p) => {
    if (p.proposalOrRefType === 'proposal') return { proposal: p.proposal, senderLeaf: committer, byReference: false };
    const stored = state.proposals.get(toHex(p.reference));
    ensure(stored !== undefined, MlsErrorCode.UnknownProposal, `no proposal ${toHex(p.reference)} in this epoch`);
    return { proposal: stored.proposal, senderLeaf: stored.senderLeaf, byReference: true };
  });
}

function ofType<T extends Proposal['proposalType']>(list: Resolved[], type: T) {
  return list.filter((r) => r.proposal.proposalType === type) as (Resolved & { proposal: Extract<Proposal, { proposalType: T }> })[];
}

/** Rules on the proposal list as a whole (RFC 9420 §12.2). */
function checkProposalList(list: Resolved[], committer: number | undefined, external: boolean): void {
  const bad = (cond: boolean, msg: string) => ensure(!cond, MlsErrorCode.InvalidProposal, msg);
  const updates = ofType(list, 'update');
  const removes = ofType(list, 'remove');
  const reinits = ofType(list, 'reinit');
  const inits = ofType(list, 'external_init');
  bad(list.some((r) => typeof r.proposal.proposalType === 'number'), 'unsupported custom proposal');
  bad(reinits.length > 0 && list.length > 1, 'ReInit must be committed alone');
  bad(ofType(list, 'group_context_extensions').length > 1, 'more than one GroupContextExtensions');
  bad(updates.some((u) => !u.byReference), 'Update proposals cannot be committed by value');
  bad(updates.some((u) => u.senderLeaf === committer), 'the committer cannot commit its own Update');
  bad(removes.some((r) => r.proposal.remove.removed === committer), 'the committer cannot remove itself');
  const touched = [...updates.map((u) => u.senderLeaf), ...removes.map((r) => r.proposal.remove.removed)];
  bad(new Set(touched).size !== touched.length, 'several Update/Remove proposals for one leaf');
  const initKeys = ofType(list, 'add').map((a) => toHex(a.proposal.add.keyPackage.initKey));
  bad(new Set(initKeys).size !== initKeys.length, 'two Add proposals with the same init key');
  const pskIds = ofType(list, 'psk').map((p) => toHex(codec.encodePskId(p.proposal.psk.preSharedKeyId)));
  bad(new Set(pskIds).size !== pskIds.length, 'duplicate PreSharedKey proposals');
  if (external) {
    bad(inits.length !== 1, 'an external commit needs exactly one ExternalInit');
    bad(list.some((r) => r.byReference), 'an external commit cannot use proposal references');
    bad(removes.length > 1, 'an external commit removes at most one leaf');
    const allowed = new Set(['external_init', 'remove', 'psk']);
    bad(list.some((r) => !allowed.has(r.proposal.proposalType as string)), 'proposal not allowed in an external commit');
  } else {
    bad(inits.length > 0, 'ExternalInit only in an external commit');
  }
}

/** RFC 9420 §12.4: a path is required unless the commit only adds, injects PSKs or reinitialises. */
function needsPath(list: Resolved[]): boolean {
  if (list.length === 0) return true;
  return list.some((r) => ['update', 'remove', 'external_init', 'group_context_extensions'].includes(r.proposal.proposalType as string));
}

/** New group extensions (and required capabilities) must be supported by every member. */
function checkNewExtensions(tree: PublicTree, extensions: Extension[]): void {
  for (const [, n] of tree.leaves()) checkLeafCapabilities(n.leaf, extensions, MlsErrorCode.InvalidProposal);
}

/** Ciphertext counts and parent hashes of an update path against the tree after proposals. */
function applyUpdatePath(tree: PublicTree, committer: number, path: UpdatePath, newLeaves: Set<number>): void {
  const fdp = tree.filteredDirectPath(committer);
  ensure(path.nodes.length === fdp.length, MlsErrorCode.InvalidUpdatePath, `path has ${path.nodes.length} nodes, expected ${fdp.length}`);
  fdp.forEach((entry, j) => {
    const expected = tree.resolution(entry.copathChild).filter((x) => !newLeaves.has(x)).length;
    const got = path.nodes[j]!.encryptedPathSecret.length;
    ensure(got === expected, MlsErrorCode.InvalidUpdatePath, `node ${entry.node}: ${got} ciphertexts, expected ${expected}`);
  });
  const leafParentHash = tree.applyPath(
    committer,
    TreeNode.leaf(path.leafNode),
    path.nodes.map((n) => n.hpkePublicKey),
    fdp,
  );
  ensure(bytesEqual(leafParentHash, path.leafNode.parentHash), MlsErrorCode.InvalidParentHash, 'leaf parent_hash does not match the path');
}

export interface CommitResult {
  state: ViewState;
  outcome: CommitOutcome;
}

interface TreeChanges {
  updated: number[];
  removed: number[];
  /** Encoded credentials of the removed leaves (an external resync must remove its own). */
  removedCredentials: Uint8Array[];
  added: [number, KeyPackage][];
}

/** RFC 9420 §12.3 order: Updates, then Removes, then Adds. */
function applyProposals(tree: PublicTree, list: Resolved[]): TreeChanges {
  const updated: number[] = [];
  for (const u of ofType(list, 'update')) {
    tree.replaceLeaf(u.senderLeaf!, TreeNode.leaf(u.proposal.update.leafNode));
    updated.push(u.senderLeaf!);
  }
  const removed = ofType(list, 'remove').map((r) => r.proposal.remove.removed);
  for (const target of removed) ensure(tree.leaf(target) !== undefined, MlsErrorCode.InvalidProposal, `leaf ${target} is blank`);
  const removedCredentials = removed.map((i) => codec.encodeCredential(tree.leaf(i)!.leaf.credential));
  for (const i of removed) tree.removeLeaf(i);
  const added = ofType(list, 'add').map((a): [number, KeyPackage] => [
    tree.addLeaf(TreeNode.leaf(a.proposal.add.keyPackage.leafNode)),
    a.proposal.add.keyPackage,
  ]);
  return { updated, removed, removedCredentials, added };
}

/** Installs the committer's path (an external joiner first takes a leaf) and returns the committer. */
async function applyCommitPath(
  state: ViewState,
  tree: PublicTree,
  path: UpdatePath,
  memberCommitter: number | undefined,
  changes: TreeChanges,
  extensions: Extension[],
  now: bigint | undefined,
): Promise<number> {
  let committer: number;
  if (memberCommitter === undefined) {
    // The joiner takes the leftmost free leaf, like an Add, then rekeys its path.
    committer = tree.addLeaf(TreeNode.leaf(path.leafNode));
    const [resynced] = changes.removedCredentials;
    if (resynced !== undefined)
      ensure(
        bytesEqual(resynced, codec.encodeCredential(path.leafNode.credential)),
        MlsErrorCode.InvalidCommit,
        "an external resync may only remove the joiner's own old leaf",
      );
  } else {
    committer = memberCommitter;
    const old = state.tree.leaf(committer)!;
    ensure(!bytesEqual(old.encryptionKey, path.leafNode.hpkePublicKey), MlsErrorCode.InvalidUpdatePath, 'path leaf must change the encryption key');
  }
  try {
    await validateMemberLeaf(path.leafNode, 'commit', committer, { ...leafRules(state, now), extensions });
  } catch (e) {
    if (e instanceof MlsValidationError && e.code === MlsErrorCode.InvalidLeafNode) throw new MlsValidationError(MlsErrorCode.InvalidUpdatePath, e.message);
    throw e;
  }
  const newLeaves = new Set(changes.added.map(([i]) => tm.leafToNode(i)));
  applyUpdatePath(tree, committer, path, newLeaves);
  return committer;
}

export async function processCommit(
  state: ViewState,
  content: CommitContent,
  auth: FramedContentAuthData,
  now: bigint | undefined,
): Promise<CommitResult> {
  ensure(auth.contentType === 'commit', MlsErrorCode.Malformed, 'commit without confirmation tag');
  const external = content.sender.senderType === 'new_member_commit';
  ensure(external || content.sender.senderType === 'member', MlsErrorCode.UnknownSender, 'commits come from members or joiners');
  const { leafIndex: memberCommitter } = await authenticate(state, content, auth);
  const list = resolveProposals(state, content, memberCommitter);
  checkProposalList(list, memberCommitter, external);
  // Referenced proposals were validated when they were stored in this epoch.
  for (const r of list) if (!r.byReference) await validateProposal(state, r.proposal, content.sender, r.senderLeaf, now);

  const tree = state.tree.clone();
  const gce = ofType(list, 'group_context_extensions')[0];
  const extensions = gce?.proposal.groupContextExtensions.extensions ?? state.context.extensions;
  const changes = applyProposals(tree, list);
  if (gce !== undefined) checkNewExtensions(tree, extensions);
  // Duplicates brought in by proposals are reported as such, before they surface as a path mismatch.
  tree.checkKeyUniqueness();

  const path = content.commit.path;
  ensure(path !== undefined || !needsPath(list), MlsErrorCode.MissingUpdatePath, 'this commit requires an update path');
  const committer = path === undefined ? memberCommitter! : await applyCommitPath(state, tree, path, memberCommitter, changes, extensions, now);
  tree.checkKeyUniqueness();
  const changedLeaves = [...tree.changed].filter((x) => tm.isLeafNode(x) && x < tree.nodeCount).map(tm.nodeToLeaf);
  checkCredentialSupport(tree, changedLeaves);

  const confirmed = await crypto.confirmedTranscriptHash(state.interimTranscriptHash, 'mls_public_message', content, auth.signature, state.suite);
  const interim = await crypto.interimTranscriptHash(confirmed, auth.confirmationTag, state.suite);
  const context = {
    ...state.context,
    epoch: state.context.epoch + 1n,
    treeHash: tree.treeHash(),
    confirmedTranscriptHash: confirmed,
    extensions,
  };
  const added = await Promise.all(
    changes.added.map(async ([leafIndex, kp]) => ({ leafIndex, keyPackageRef: await crypto.keyPackageRef(kp, state.suite) })),
  );
  const reinit = ofType(list, 'reinit').length > 0;
  return {
    state: epochState(state.suite, context, tree, interim, reinit),
    outcome: {
      committer,
      external,
      added,
      removed: changes.removed,
      updated: changes.updated,
      groupContextExtensions: gce !== undefined,
      reinit,
    },
  };
}

/** The Welcome of an adding commit must be for exactly the added KeyPackages. */
export function checkWelcomeRefs(welcomeRefs: Uint8Array[], outcome: CommitOutcome): void {
  const expected = new Set(outcome.added.map((a) => toHex(a.keyPackageRef)));
  const got = new Set(welcomeRefs.map(toHex));
  const same = expected.size === got.size && [...expected].every((r) => got.has(r)) && welcomeRefs.length === got.size;
  if (!same) throw new MlsValidationError(MlsErrorCode.WelcomeMismatch, 'Welcome recipients differ from the added KeyPackages');
}
