// The QS settings, read from the module's environment and validated at start; every problem is
// reported at once (SettingsError: the node exits with code 2). Documented in docs/qs.md.
import { SettingsReader, type SettingsSource } from '../runtime/settings.js';

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
  /** A journaled queue head (the sealed ratchet key) at least every this many messages; activation
   *  steps the ratchet over the messages after the newest one. */
  queueHeadInterval: number;
  /** How long a listener's interest lasts without renewal (its gateway renews every third of it). */
  listenLeaseMs: number;
}

export function readQsSettings(env: SettingsSource): QsSettings {
  const read = new SettingsReader(env);
  return read.done({
    maxDequeue: read.integer('QS_MAX_DEQUEUE', 500, 1, 100_000),
    keyUpdateMessages: read.integer('QS_KEY_UPDATE_MESSAGES', 1000, 1, 1_000_000_000),
    keyUpdateMs: read.seconds('QS_KEY_UPDATE_SECONDS', 86_400, 1, 31_536_000),
    tokenWindowMs: read.seconds('QS_TOKEN_WINDOW_SECONDS', 60, 1, 3600),
    maxKeyPackages: read.integer('QS_MAX_KEY_PACKAGES', 100, 1, 10_000),
    maxKeyPackageBytes: read.integer('QS_MAX_KEY_PACKAGE_BYTES', 16_384, 256, 1_048_576),
    maxMessageBytes: read.integer('QS_MAX_MESSAGE_BYTES', 262_144, 1, 16_777_216),
    maxBlocklist: read.integer('QS_MAX_BLOCKLIST', 1000, 0, 100_000),
    configCacheSize: read.integer('QS_CONFIG_CACHE_SIZE', 100_000, 0, 10_000_000),
    queueHeadInterval: read.integer('QS_QUEUE_HEAD_INTERVAL', 64, 1, 10_000),
    listenLeaseMs: read.seconds('QS_LISTEN_LEASE_SECONDS', 60, 1, 3600),
  }, 'QS configuration');
}
