// Subject naming: hs.<domain>.<module>.<shard>. The shard of an actor key is fixed by a hash, so any
// node can address any actor without a directory; ownership of shards moves between nodes, the
// subjects never do.

export const DEFAULT_SHARD_COUNT = 256;

/** 32-bit FNV-1a over the key's UTF-8 bytes: cheap, stable across processes and versions. (Keys are
 *  almost always ASCII, hashed from the string itself; every call routes one, so no buffer per key.) */
export function shardOf(key: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code >= 0x80) return fnv1a(Buffer.from(key, 'utf8')) % shardCount;
    hash = Math.imul(hash ^ code, 0x01000193) >>> 0;
  }
  return hash % shardCount;
}

function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** Subject tokens may not contain dots, spaces or wildcards. */
export function assertSubjectToken(token: string, what: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error(`${what} must be letters, digits, '_' or '-': ${JSON.stringify(token)}`);
}

/** Domains contain dots; subjects use them as separators, so the domain is written with '_' instead. */
export function domainToken(domain: string): string {
  const token = domain.toLowerCase().replace(/\./g, '_');
  assertSubjectToken(token, 'domain');
  return token;
}

export function shardSubject(domain: string, module: string, shard: number): string {
  return `hs.${domainToken(domain)}.${module}.${shard}`;
}

export function actorSubject(domain: string, module: string, key: string, shardCount: number): string {
  return shardSubject(domain, module, shardOf(key, shardCount));
}
