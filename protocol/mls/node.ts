// One non-blank node of the public ratchet tree, kept as its exact TLS encoding. The bytes are what the
// tree hash and the snapshot need, so a loaded snapshot never has to decode a node it does not look at;
// the structured form is decoded on first use.
import { codec, type LeafNode } from './tsmls.js';
import { Reader, Writer } from './tls.js';

export interface ParentData {
  encryptionKey: Uint8Array;
  parentHash: Uint8Array;
  unmergedLeaves: number[];
}

export const NODE_TYPE_LEAF = 1;
export const NODE_TYPE_PARENT = 2;

export function encodeParentData(p: ParentData): Uint8Array {
  const w = new Writer().vec(p.encryptionKey).vec(p.parentHash);
  w.varint(p.unmergedLeaves.length * 4);
  for (const l of p.unmergedLeaves) w.u32(l);
  return w.finish();
}

/** Reads a ParentNode starting at r.offset (unmerged_leaves is a uint32 vector). */
export function readParentData(r: Reader): ParentData {
  const encryptionKey = r.vec();
  const parentHash = r.vec();
  const list = r.vec();
  if (list.length % 4 !== 0) throw new RangeError('unmerged_leaves length');
  const lr = new Reader(list);
  const unmergedLeaves: number[] = [];
  while (!lr.done) unmergedLeaves.push(lr.u32());
  return { encryptionKey, parentHash, unmergedLeaves };
}

export class TreeNode {
  private leafValue: LeafNode | undefined;
  private parentValue: ParentData | undefined;

  private constructor(
    readonly kind: 'leaf' | 'parent',
    readonly bytes: Uint8Array,
  ) {}

  static fromBytes(kind: 'leaf' | 'parent', bytes: Uint8Array): TreeNode {
    return new TreeNode(kind, bytes);
  }

  static leaf(leaf: LeafNode, bytes: Uint8Array = codec.encodeLeafNode(leaf)): TreeNode {
    const n = new TreeNode('leaf', bytes);
    n.leafValue = leaf;
    return n;
  }

  static parent(data: ParentData): TreeNode {
    const n = new TreeNode('parent', encodeParentData(data));
    n.parentValue = data;
    return n;
  }

  /** Both LeafNode and ParentNode start with the HPKE encryption key. */
  get encryptionKey(): Uint8Array {
    return new Reader(this.bytes).vec();
  }

  /** A LeafNode's second field is its signature key. */
  get signatureKey(): Uint8Array {
    const r = new Reader(this.bytes);
    r.vec();
    return r.vec();
  }

  get leaf(): LeafNode {
    if (this.kind !== 'leaf') throw new TypeError('not a leaf node');
    this.leafValue ??= codec.decodeLeafNode(this.bytes);
    return this.leafValue;
  }

  get parent(): ParentData {
    if (this.kind !== 'parent') throw new TypeError('not a parent node');
    this.parentValue ??= readParentData(new Reader(this.bytes));
    return this.parentValue;
  }

  /** The parent_hash a node carries towards its chain (only commit-sourced leaves carry one). */
  get parentHash(): Uint8Array | undefined {
    if (this.kind === 'parent') return this.parent.parentHash;
    const leaf = this.leaf;
    return leaf.leafNodeSource === 'commit' ? leaf.parentHash : undefined;
  }
}
