// Per-credential-type counters of a tree: how many leaves use each type and how many support it.
// RFC 9420 §7.3 asks for mutual support between a new leaf and every member; with these counters that
// is O(1) per changed leaf, and the tree keeps them current as leaves change.
import type { TreeNode } from './node.js';

export interface CredentialCounts {
  leaves: number;
  inUse: Map<string, number>;
  supported: Map<string, number>;
}

export function emptyCounts(): CredentialCounts {
  return { leaves: 0, inUse: new Map(), supported: new Map() };
}

export function copyCounts(c: CredentialCounts): CredentialCounts {
  return { leaves: c.leaves, inUse: new Map(c.inUse), supported: new Map(c.supported) };
}

/** Adds (delta 1) or withdraws (delta -1) one leaf's contribution. */
export function countLeaf(c: CredentialCounts, n: TreeNode, delta: 1 | -1): void {
  const leaf = n.leaf;
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + delta);
  c.leaves += delta;
  bump(c.inUse, leaf.credential.credentialType);
  for (const t of new Set<string>(leaf.capabilities.credentials)) bump(c.supported, t);
}
