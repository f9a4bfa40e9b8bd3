// IETF tree-math, tree-validation and tree-operations vectors against the view's own tree code.
import test from 'ava';
import { decodeProposal } from 'ts-mls/proposal.js';
import { hashFunction } from '../../protocol/mls/hash.js';
import { PublicTree } from '../../protocol/mls/tree.js';
import { TreeNode } from '../../protocol/mls/node.js';
import * as tm from '../../protocol/mls/treemath.js';
import { verifyTreeLeaves } from '../../protocol/mls/validate.js';
import { eachCase, hex, loadVectors, toHexString } from './helpers/vectors.js';

interface TreeMathVector {
  n_leaves: number;
  n_nodes: number;
  root: number;
  left: (number | null)[];
  right: (number | null)[];
  parent: (number | null)[];
  sibling: (number | null)[];
}

const orNull = (f: () => number): number | null => {
  try {
    return f();
  } catch {
    return null;
  }
};

test('tree-math vectors', (t) => {
  const vectors = loadVectors<TreeMathVector>('tree-math.json');
  for (const v of vectors) {
    t.is(tm.nodeWidth(v.n_leaves), v.n_nodes);
    t.is(tm.root(v.n_leaves), v.root);
    for (let x = 0; x < v.n_nodes; x++) {
      t.is(orNull(() => tm.left(x)), v.left[x] ?? null, `left(${x})`);
      t.is(orNull(() => tm.right(x)), v.right[x] ?? null, `right(${x})`);
      t.is(orNull(() => tm.parent(x, v.n_leaves)), v.parent[x] ?? null, `parent(${x})`);
      t.is(orNull(() => tm.sibling(x, v.n_leaves)), v.sibling[x] ?? null, `sibling(${x})`);
    }
  }
  t.true(vectors.length > 0);
});

interface TreeValidationVector {
  cipher_suite: number;
  tree: string;
  group_id: string;
  resolutions: number[][];
  tree_hashes: string[];
}

test('tree-validation vectors: resolutions, tree hashes, parent hashes, leaf signatures', async (t) => {
  const n = await eachCase<TreeValidationVector>('tree-validation.json', async (v, label, suite) => {
    const tree = PublicTree.decode(hashFunction(suite.hashAlgorithm), hex(v.tree));
    t.is(tree.nodeCount, v.tree_hashes.length, `${label} width`);
    for (let x = 0; x < tree.nodeCount; x++) {
      t.deepEqual(tree.resolution(x), v.resolutions[x], `${label} resolution(${x})`);
      t.is(toHexString(tree.treeHash(x)), v.tree_hashes[x] ?? '', `${label} tree hash(${x})`);
    }
    t.true(tree.verifyParentHashes(), `${label} parent hashes`);
    t.true(tree.verifyUnmergedLeaves(), `${label} unmerged leaves`);
    await t.notThrowsAsync(verifyTreeLeaves(tree, hex(v.group_id), suite), `${label} leaf signatures`);
    t.deepEqual(tree.encode(), hex(v.tree), `${label} re-encode`);
  });
  t.true(n > 0);
});

test('tree-validation vectors: a tampered parent node breaks the parent-hash chain', (t) => {
  const v = loadVectors<TreeValidationVector>('tree-validation.json').find((x) => x.cipher_suite === 1 && x.tree.length > 2000 && x.tree_hashes.length > 7)!;
  const tree = PublicTree.decode(hashFunction('SHA-256'), hex(v.tree));
  t.true(tree.verifyParentHashes());
  const p = [...Array(tree.nodeCount).keys()].find((x) => x % 2 === 1 && tree.node(x) !== undefined)!;
  const data = tree.node(p)!.parent;
  const key = data.encryptionKey.slice();
  key[0]! ^= 1;
  const nodes = [...Array(tree.nodeCount).keys()].map((x) => (x === p ? TreeNode.parent({ ...data, encryptionKey: key }) : tree.node(x)));
  t.false(PublicTree.fromNodes(tree.hash, nodes).verifyParentHashes());
});

interface TreeOperationsVector {
  cipher_suite: number;
  tree_before: string;
  proposal: string;
  proposal_sender: number;
  tree_hash_before: string;
  tree_after: string;
  tree_hash_after: string;
}

test('tree-operations vectors', async (t) => {
  const n = await eachCase<TreeOperationsVector>('tree-operations.json', (v, label, suite) => {
    const before = PublicTree.decode(hashFunction(suite.hashAlgorithm), hex(v.tree_before));
    t.is(toHexString(before.treeHash()), v.tree_hash_before, `${label} hash before`);
    const decoded = decodeProposal(hex(v.proposal), 0);
    if (decoded === undefined) throw new Error('cannot decode proposal');
    const proposal = decoded[0];
    const after = before.clone();
    if (proposal.proposalType === 'add') after.addLeaf(TreeNode.leaf(proposal.add.keyPackage.leafNode));
    else if (proposal.proposalType === 'remove') after.removeLeaf(proposal.remove.removed);
    else if (proposal.proposalType === 'update') after.replaceLeaf(v.proposal_sender, TreeNode.leaf(proposal.update.leafNode));
    else t.fail(`unexpected proposal ${String(proposal.proposalType)}`);
    t.is(toHexString(after.encode()), v.tree_after, `${label} tree after`);
    t.is(toHexString(after.treeHash()), v.tree_hash_after, `${label} hash after`);
    const fresh = PublicTree.decode(before.hash, after.encode());
    t.is(toHexString(fresh.treeHash()), v.tree_hash_after, `${label} uncached hash after`);
    // The clone must not have disturbed the original tree or its cached hashes.
    t.is(toHexString(before.treeHash()), v.tree_hash_before, `${label} original intact`);
    t.is(toHexString(before.encode()), v.tree_before);
  });
  t.is(n, 5);
});
