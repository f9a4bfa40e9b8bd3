// Array-based tree arithmetic of RFC 9420 Appendix C. Node indices: leaves are even, parents odd.

export function level(x: number): number {
  let k = 0;
  while (((x >> k) & 1) === 1) k++;
  return k;
}

export const isLeafNode = (x: number): boolean => (x & 1) === 0;
export const leafToNode = (leaf: number): number => leaf * 2;
export const nodeToLeaf = (x: number): number => x >> 1;

export function nodeWidth(leaves: number): number {
  return leaves === 0 ? 0 : 2 * (leaves - 1) + 1;
}

export function root(leaves: number): number {
  const w = nodeWidth(leaves);
  return (1 << Math.floor(Math.log2(w))) - 1;
}

export function left(x: number): number {
  const k = level(x);
  if (k === 0) throw new RangeError('leaf has no children');
  return x ^ (1 << (k - 1));
}

export function right(x: number): number {
  const k = level(x);
  if (k === 0) throw new RangeError('leaf has no children');
  return x ^ (3 << (k - 1));
}

export function parent(x: number, leaves: number): number {
  if (x === root(leaves)) throw new RangeError('root has no parent');
  const k = level(x);
  const b = (x >> (k + 1)) & 1;
  return (x | (1 << k)) ^ (b << (k + 1));
}

export function sibling(x: number, leaves: number): number {
  const p = parent(x, leaves);
  return x < p ? right(p) : left(p);
}

/** Ancestors of x from its parent up to the root. */
export function directPath(x: number, leaves: number): number[] {
  const r = root(leaves);
  const out: number[] = [];
  while (x !== r) {
    x = parent(x, leaves);
    out.push(x);
  }
  return out;
}

/** First and one-past-last leaf index covered by the subtree rooted at x. */
export function leafSpan(x: number): [number, number] {
  const k = level(x);
  const first = (x - ((1 << k) - 1)) / 2;
  return [first, first + (1 << k)];
}
