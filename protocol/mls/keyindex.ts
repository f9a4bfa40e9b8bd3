// Where each HPKE or signature key sits in a tree, so key uniqueness (RFC 9420 §7.9.1) is checked for
// the nodes a commit changed instead of the whole tree. The index is shared by a tree and its clones
// and only ever grows: every hit is re-checked against the node actually in the tree being validated,
// so entries left by refused commits or older epochs cannot produce a wrong answer.
import type { TreeNode } from './node.js';
import { bytesEqual, toHex } from './tls.js';

export type KeyOf = (n: TreeNode) => Uint8Array | undefined;

export const encryptionKeyOf: KeyOf = (n) => n.encryptionKey;
export const signatureKeyOf: KeyOf = (n) => (n.kind === 'leaf' ? n.signatureKey : undefined);

export class KeyIndex {
  private readonly positions = new Map<string, number[]>();

  private constructor(private readonly keyOf: KeyOf) {}

  static build(keyOf: KeyOf, nodes: readonly (TreeNode | undefined)[]): KeyIndex {
    const index = new KeyIndex(keyOf);
    nodes.forEach((n, i) => {
      if (n !== undefined) index.add(n, i);
    });
    return index;
  }

  /** Entries, stale ones included: when this outgrows the tree it is rebuilt. */
  get size(): number {
    return this.positions.size;
  }

  add(node: TreeNode, at: number): void {
    const key = this.keyOf(node);
    if (key === undefined) return;
    const k = toHex(key);
    const list = this.positions.get(k);
    if (list === undefined) this.positions.set(k, [at]);
    else if (!list.includes(at)) list.push(at);
  }

  /** True if another node of `nodes` than `at` carries the same key as `node`. */
  clashes(nodes: readonly (TreeNode | undefined)[], node: TreeNode, at: number): boolean {
    const key = this.keyOf(node);
    if (key === undefined) return false;
    for (const j of this.positions.get(toHex(key)) ?? []) {
      const other = j === at ? undefined : nodes[j];
      const k = other === undefined ? undefined : this.keyOf(other);
      if (k !== undefined && bytesEqual(k, key)) return true;
    }
    return false;
  }
}
