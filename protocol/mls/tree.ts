// The public ratchet tree with a per-node tree-hash cache. A commit touches a handful of direct paths,
// so only those nodes lose their cached hash and the root hash costs O(k log n) instead of O(n).
//
// Trees are copy-on-write: `clone()` copies two pointer arrays, mutations happen on the clone, and a
// refused commit simply drops it. Key indexes and credential counters ride along with the clones.
import { MlsErrorCode, MlsValidationError, ensure } from './errors.js';
import type { HashFn } from './hash.js';
import { NODE_TYPE_LEAF, NODE_TYPE_PARENT, TreeNode, readParentData, type ParentData } from './node.js';
import { Reader, Writer, bytesEqual } from './tls.js';
import { KeyIndex, encryptionKeyOf, signatureKeyOf } from './keyindex.js';
import { copyCounts, countLeaf, emptyCounts, type CredentialCounts } from './credentials.js';
import { codec } from './tsmls.js';
import * as tm from './treemath.js';

export class PublicTree {
  private hpkeIndex: KeyIndex | undefined;
  private signatureIndex: KeyIndex | undefined;
  /** Maintained incrementally once computed, so a commit does not rescan every leaf. */
  private credentials: CredentialCounts | undefined;
  /** Node indices whose content changed since this tree was cloned (for key-uniqueness checks). */
  readonly changed = new Set<number>();

  private constructor(
    readonly hash: HashFn,
    private nodes: (TreeNode | undefined)[],
    private hashes: (Uint8Array | undefined)[],
  ) {}

  static fromNodes(hash: HashFn, nodes: (TreeNode | undefined)[], hashes?: (Uint8Array | undefined)[]): PublicTree {
    return new PublicTree(hash, nodes, hashes ?? new Array<Uint8Array | undefined>(nodes.length).fill(undefined));
  }

  /** Decodes `optional<Node> ratchet_tree<V>` and extends it to a full tree (RFC 9420 §12.4.3.3). */
  static decode(hash: HashFn, bytes: Uint8Array): PublicTree {
    const r = new Reader(bytes);
    // A private copy: ts-mls decoders would otherwise copy the enclosing buffer once per leaf.
    const body = r.vec().slice();
    r.end();
    const nodes: (TreeNode | undefined)[] = [];
    let offset = 0;
    const br = new Reader(body);
    while (!br.done) {
      const present = br.u8();
      if (present === 0) {
        nodes.push(undefined);
        continue;
      }
      ensure(present === 1, MlsErrorCode.Malformed, 'invalid optional flag in ratchet tree');
      const type = br.u8();
      const index = nodes.length;
      offset = br.offset;
      if (type === NODE_TYPE_LEAF) {
        ensure(tm.isLeafNode(index), MlsErrorCode.InvalidTree, `leaf node at parent position ${index}`);
        const [leaf, end] = codec.decodeLeafNodeAt(body, offset);
        nodes.push(TreeNode.leaf(leaf, body.slice(offset, end)));
        br.offset = end;
      } else if (type === NODE_TYPE_PARENT) {
        ensure(!tm.isLeafNode(index), MlsErrorCode.InvalidTree, `parent node at leaf position ${index}`);
        let data: ParentData;
        try {
          data = readParentData(br);
        } catch (e) {
          if (e instanceof MlsValidationError) throw e;
          throw new MlsValidationError(MlsErrorCode.Malformed, 'invalid parent node');
        }
        nodes.push(TreeNode.parent(data));
      } else {
        throw new MlsValidationError(MlsErrorCode.Malformed, `unknown node type ${type}`);
      }
    }
    ensure(nodes.length > 0 && nodes[nodes.length - 1] !== undefined, MlsErrorCode.InvalidTree, 'ratchet tree must end with a non-blank node');
    let width = 1;
    while (width < nodes.length) width = width * 2 + 1;
    while (nodes.length < width) nodes.push(undefined);
    return PublicTree.fromNodes(hash, nodes);
  }

  /** Encodes the tree with trailing blank nodes stripped. */
  encode(): Uint8Array {
    let last = this.nodes.length - 1;
    while (last >= 0 && this.nodes[last] === undefined) last--;
    const body = new Writer();
    for (let i = 0; i <= last; i++) {
      const n = this.nodes[i];
      if (n === undefined) body.u8(0);
      else body.u8(1).u8(n.kind === 'leaf' ? NODE_TYPE_LEAF : NODE_TYPE_PARENT).raw(n.bytes);
    }
    return new Writer().vec(body.finish()).finish();
  }

  clone(): PublicTree {
    const t = new PublicTree(this.hash, this.nodes.slice(), this.hashes.slice());
    t.hpkeIndex = this.hpkeIndex;
    t.signatureIndex = this.signatureIndex;
    if (this.credentials !== undefined) t.credentials = copyCounts(this.credentials);
    return t;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  get leafCount(): number {
    return (this.nodes.length + 1) / 2;
  }

  get root(): number {
    return tm.root(this.leafCount);
  }

  node(i: number): TreeNode | undefined {
    return this.nodes[i];
  }

  leaf(leafIndex: number): TreeNode | undefined {
    return leafIndex >= 0 && leafIndex < this.leafCount ? this.nodes[tm.leafToNode(leafIndex)] : undefined;
  }

  *leaves(): Generator<[number, TreeNode]> {
    for (let i = 0; i < this.nodes.length; i += 2) {
      const n = this.nodes[i];
      if (n !== undefined) yield [i / 2, n];
    }
  }

  /** Cached hashes, all computed; used by the snapshot. */
  allHashes(): Uint8Array[] {
    this.treeHash();
    return this.hashes as Uint8Array[];
  }

  // ---- mutations (only on a fresh clone) ----

  credentialCounts(): CredentialCounts {
    if (this.credentials === undefined) {
      const c = emptyCounts();
      for (const [, n] of this.leaves()) countLeaf(c, n, 1);
      this.credentials = c;
    }
    return this.credentials;
  }

  private set(i: number, n: TreeNode | undefined): void {
    if (this.credentials !== undefined && tm.isLeafNode(i)) {
      const old = this.nodes[i];
      if (old !== undefined) countLeaf(this.credentials, old, -1);
      if (n !== undefined) countLeaf(this.credentials, n, 1);
    }
    this.nodes[i] = n;
    this.changed.add(i);
    this.invalidate(i);
  }

  /** Drops the cached hash of x and its ancestors; an uncached node's ancestors are already uncached. */
  private invalidate(x: number): void {
    const leaves = this.leafCount;
    const r = tm.root(leaves);
    for (;;) {
      this.hashes[x] = undefined;
      if (x === r) return;
      x = tm.parent(x, leaves);
      if (this.hashes[x] === undefined) return;
    }
  }

  private blankDirectPath(leafIndex: number): void {
    for (const x of tm.directPath(tm.leafToNode(leafIndex), this.leafCount)) if (this.nodes[x] !== undefined) this.set(x, undefined);
  }

  /** Update proposal: replace the leaf and blank its direct path. */
  replaceLeaf(leafIndex: number, leaf: TreeNode): void {
    this.set(tm.leafToNode(leafIndex), leaf);
    this.blankDirectPath(leafIndex);
  }

  /** Remove proposal: blank the leaf and its direct path, then truncate trailing empty halves. */
  removeLeaf(leafIndex: number): void {
    this.set(tm.leafToNode(leafIndex), undefined);
    this.blankDirectPath(leafIndex);
    let lastLeaf = this.leafCount - 1;
    while (lastLeaf > 0 && this.nodes[tm.leafToNode(lastLeaf)] === undefined) lastLeaf--;
    let leaves = this.leafCount;
    while (leaves > 1 && leaves / 2 > lastLeaf) leaves /= 2;
    if (leaves < this.leafCount) {
      const width = tm.nodeWidth(leaves);
      this.nodes.length = width;
      this.hashes.length = width;
    }
  }

  /** Add proposal: leftmost blank leaf (or a doubled tree), recorded as unmerged on its non-blank path. */
  addLeaf(leaf: TreeNode): number {
    let leafIndex = 0;
    while (leafIndex < this.leafCount && this.nodes[tm.leafToNode(leafIndex)] !== undefined) leafIndex++;
    if (leafIndex === this.leafCount) {
      const width = this.nodes.length * 2 + 1;
      while (this.nodes.length < width) {
        this.nodes.push(undefined);
        this.hashes.push(undefined);
      }
    }
    for (const x of tm.directPath(tm.leafToNode(leafIndex), this.leafCount)) {
      const p = this.nodes[x];
      if (p === undefined) continue;
      const data = p.parent;
      this.set(x, TreeNode.parent({ ...data, unmergedLeaves: [...data.unmergedLeaves, leafIndex] }));
    }
    this.set(tm.leafToNode(leafIndex), leaf);
    return leafIndex;
  }

  /** The child of ancestor `a` that is not on the path from node x. */
  private copathChild(a: number, x: number): number {
    return x < a ? tm.right(a) : tm.left(a);
  }

  /** The filtered direct path of a leaf with, for each node, its copath child. */
  filteredDirectPath(leafIndex: number): { node: number; copathChild: number }[] {
    const x = tm.leafToNode(leafIndex);
    const out: { node: number; copathChild: number }[] = [];
    for (const a of tm.directPath(x, this.leafCount)) {
      const c = this.copathChild(a, x);
      if (this.resolution(c).length > 0) out.push({ node: a, copathChild: c });
    }
    return out;
  }

  resolution(x: number): number[] {
    const n = this.nodes[x];
    if (n !== undefined) {
      if (n.kind === 'leaf') return [x];
      return [x, ...n.parent.unmergedLeaves.map(tm.leafToNode)];
    }
    if (tm.isLeafNode(x)) return [];
    return [...this.resolution(tm.left(x)), ...this.resolution(tm.right(x))];
  }

  /**
   * Commit path: installs the committer's new leaf and path keys, blanks the rest of its direct path and
   * fills in parent hashes top-down. Returns the parent hash the leaf must carry.
   */
  applyPath(leafIndex: number, leaf: TreeNode, pathKeys: Uint8Array[], fdp: { node: number; copathChild: number }[]): Uint8Array {
    const onPath = new Set(fdp.map((f) => f.node));
    for (const a of tm.directPath(tm.leafToNode(leafIndex), this.leafCount)) if (!onPath.has(a) && this.nodes[a] !== undefined) this.set(a, undefined);
    let above: Uint8Array = new Uint8Array(0);
    for (let j = fdp.length - 1; j >= 0; j--) {
      const entry = fdp[j]!;
      const data: ParentData = { encryptionKey: pathKeys[j]!, parentHash: above, unmergedLeaves: [] };
      this.set(entry.node, TreeNode.parent(data));
      // The copath subtree is untouched by the path, so its cached hash is the original sibling hash.
      above = this.parentHashOf(data, this.treeHash(entry.copathChild));
    }
    this.set(tm.leafToNode(leafIndex), leaf);
    return above;
  }

  // ---- hashes ----

  treeHash(x: number = this.root): Uint8Array {
    const cached = this.hashes[x];
    if (cached !== undefined) return cached;
    const n = this.nodes[x];
    let h: Uint8Array;
    if (tm.isLeafNode(x)) {
      h = this.leafHash(x, n);
    } else {
      h = this.parentHashInput(n?.bytes, this.treeHash(tm.left(x)), this.treeHash(tm.right(x)));
    }
    this.hashes[x] = h;
    return h;
  }

  private leafHash(x: number, n: TreeNode | undefined): Uint8Array {
    const w = new Writer().u8(NODE_TYPE_LEAF).u32(tm.nodeToLeaf(x));
    if (n === undefined) w.u8(0);
    else w.u8(1).raw(n.bytes);
    return this.hash(w.finish());
  }

  private parentHashInput(bytes: Uint8Array | undefined, l: Uint8Array, r: Uint8Array): Uint8Array {
    const w = new Writer().u8(NODE_TYPE_PARENT);
    if (bytes === undefined) w.u8(0);
    else w.u8(1).raw(bytes);
    return this.hash(w.vec(l).vec(r).finish());
  }

  /** Tree hash of x in the tree where `excluded` leaves are blanked and dropped from unmerged lists. */
  private treeHashWithout(x: number, excluded: number[]): Uint8Array {
    const [first, end] = tm.leafSpan(x);
    const inside = excluded.filter((l) => l >= first && l < end);
    if (inside.length === 0) return this.treeHash(x);
    if (tm.isLeafNode(x)) return this.leafHash(x, undefined);
    let n = this.nodes[x];
    if (n !== undefined) {
      const d = n.parent;
      const kept = d.unmergedLeaves.filter((l) => !inside.includes(l));
      if (kept.length !== d.unmergedLeaves.length) n = TreeNode.parent({ ...d, unmergedLeaves: kept });
    }
    return this.parentHashInput(n?.bytes, this.treeHashWithout(tm.left(x), inside), this.treeHashWithout(tm.right(x), inside));
  }

  private parentHashOf(p: ParentData, originalSiblingTreeHash: Uint8Array): Uint8Array {
    return this.hash(new Writer().vec(p.encryptionKey).vec(p.parentHash).vec(originalSiblingTreeHash).finish());
  }

  /** The parent hash that a descendant on the `child` side of parent node `p` must carry. */
  parentHashFor(p: number, child: number): Uint8Array {
    const data = this.nodes[p]!.parent;
    const siblingSide = child === tm.left(p) ? tm.right(p) : tm.left(p);
    return this.parentHashOf(data, this.treeHashWithout(siblingSide, data.unmergedLeaves));
  }

  /** RFC 9420 §7.9.2: every non-blank parent is parent-hash valid with respect to one of its children. */
  verifyParentHashes(): boolean {
    for (let p = 1; p < this.nodes.length; p += 2) {
      const n = this.nodes[p];
      if (n === undefined) continue;
      const unmerged = new Set(n.parent.unmergedLeaves.map(tm.leafToNode));
      const validVia = (child: number): boolean => {
        const expected = this.parentHashFor(p, child);
        return this.resolution(child).some((d) => {
          if (unmerged.has(d)) return false;
          const ph = this.nodes[d]!.parentHash;
          return ph !== undefined && bytesEqual(ph, expected);
        });
      };
      if (!validVia(tm.left(p)) && !validVia(tm.right(p))) return false;
    }
    return true;
  }

  /** RFC 9420 §7.9.1 unmerged_leaves structure: listed leaves are non-blank descendants, listed on the way up. */
  verifyUnmergedLeaves(): boolean {
    const leaves = this.leafCount;
    for (let p = 1; p < this.nodes.length; p += 2) {
      const n = this.nodes[p];
      if (n === undefined) continue;
      const [first, end] = tm.leafSpan(p);
      for (const l of n.parent.unmergedLeaves) {
        if (l < first || l >= end || this.nodes[tm.leafToNode(l)] === undefined) return false;
        for (const a of tm.directPath(tm.leafToNode(l), leaves)) {
          if (a === p) break;
          const between = this.nodes[a];
          if (between !== undefined && !between.parent.unmergedLeaves.includes(l)) return false;
        }
      }
    }
    return true;
  }

  // ---- key uniqueness ----

  private index(current: KeyIndex | undefined, keyOf: typeof encryptionKeyOf): KeyIndex {
    return current === undefined || current.size > 4 * this.nodes.length + 64 ? KeyIndex.build(keyOf, this.nodes) : current;
  }

  /**
   * HPKE keys must be unique across all nodes and signature keys across all leaves (RFC 9420 §7.9.1).
   * Checks only the nodes in `nodes` (by default the ones changed since the clone).
   */
  checkKeyUniqueness(nodes: Iterable<number> = this.changed): void {
    const hpke = (this.hpkeIndex = this.index(this.hpkeIndex, encryptionKeyOf));
    const sig = (this.signatureIndex = this.index(this.signatureIndex, signatureKeyOf));
    const list = [...nodes].filter((i) => this.nodes[i] !== undefined);
    for (const i of list) {
      hpke.add(this.nodes[i]!, i);
      sig.add(this.nodes[i]!, i);
    }
    for (const i of list) {
      const n = this.nodes[i]!;
      if (hpke.clashes(this.nodes, n, i)) throw new MlsValidationError(MlsErrorCode.DuplicateKey, `encryption key of node ${i} already in the tree`);
      if (sig.clashes(this.nodes, n, i)) throw new MlsValidationError(MlsErrorCode.DuplicateKey, `signature key of leaf ${i / 2} already in the tree`);
    }
  }
}
