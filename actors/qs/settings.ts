// The QS settings, read from the module's environment and validated at start; every problem is
// reported at once. Documented in docs/qs.md ("Configuration").

export interface QsSettings {
  /** Most messages one dequeue returns (the spec's "maximal number of requested messages"). */
  maxDequeue: number;
  /** A ratchet key update is enqueued after this many messages... */
  keyUpdateMessages: number;
  /** ...or when the last update is this old, whichever comes first. */
  keyUpdateMs: number;
  /** QsAuthToken timestamps may differ from the server clock by at most this much. */
  tokenWindowMs: number;
  maxKeyPackages: number;
  maxKeyPackageBytes: number;
  maxMessageBytes: number;
  maxBlocklist: number;
  /** Opened sealed queue configs remembered per node (routing only; in memory). */
  configCacheSize: number;
}

export class QsSettingsError extends Error {
  override readonly name = 'QsSettingsError';
}

type Env = Readonly<Record<string, string | undefined>>;

export function readQsSettings(env: Env): QsSettings {
  const problems: string[] = [];
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };
  const settings: QsSettings = {
    maxDequeue: integer('QS_MAX_DEQUEUE', 500, 1, 100_000),
    keyUpdateMessages: integer('QS_KEY_UPDATE_MESSAGES', 1000, 1, 1_000_000_000),
    keyUpdateMs: integer('QS_KEY_UPDATE_SECONDS', 86_400, 1, 31_536_000) * 1000,
    tokenWindowMs: integer('QS_TOKEN_WINDOW_SECONDS', 60, 1, 3600) * 1000,
    maxKeyPackages: integer('QS_MAX_KEY_PACKAGES', 100, 1, 10_000),
    maxKeyPackageBytes: integer('QS_MAX_KEY_PACKAGE_BYTES', 16_384, 256, 1_048_576),
    maxMessageBytes: integer('QS_MAX_MESSAGE_BYTES', 262_144, 1, 16_777_216),
    maxBlocklist: integer('QS_MAX_BLOCKLIST', 1000, 0, 100_000),
    configCacheSize: integer('QS_CONFIG_CACHE_SIZE', 100_000, 0, 10_000_000),
  };
  if (problems.length > 0) throw new QsSettingsError(`invalid QS configuration:\n  - ${problems.join('\n  - ')}`);
  return settings;
}
