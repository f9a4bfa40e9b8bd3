// The AS and AAS settings, read from the module environment and validated when the module is built;
// every problem is reported at once. Documented in docs/as-aas.md ("Configuration").
import { SettingsReader, type SettingsSource } from '../runtime/settings.js';

export type RegistrationPolicy = 'open' | 'invite' | 'closed';

export interface AsSettings {
  registration: RegistrationPolicy;
  /** Required with registration = invite; compared in constant time. */
  inviteSecret: string | undefined;
  asCredentialLifetimeMs: number;
  intermediateLifetimeMs: number;
  clientCredentialLifetimeMs: number;
  maxClients: number;
  maxDequeue: number;
  maxMessageBytes: number;
  maxConnectionPackages: number;
}

export interface AasSettings {
  /** Tokens a client may obtain per timeframe. */
  allowance: number;
  timeframeMs: number;
  /** Most token requests in one issuance call. */
  maxBatch: number;
  /** An issuer key issues for this long and is accepted for twice as long (one period of overlap). */
  keyRotationMs: number;
  /** How long a redemption waits for others to share its nonce insert. */
  redeemBatchMs: number;
}

const DAY_S = 86_400;

export function readAsSettings(env: SettingsSource): AsSettings {
  const read = new SettingsReader(env);
  const registration = read.oneOf<RegistrationPolicy>('AS_REGISTRATION', 'open', ['open', 'invite', 'closed']);
  const inviteSecret = read.text('AS_INVITE_SECRET');
  if (registration === 'invite' && (inviteSecret === undefined || inviteSecret.length < 16)) {
    read.problems.push('AS_INVITE_SECRET of at least 16 characters is required when AS_REGISTRATION=invite');
  }
  return read.done({
    registration,
    inviteSecret,
    asCredentialLifetimeMs: read.seconds('AS_CREDENTIAL_LIFETIME_S', 5 * 365 * DAY_S, 3600, 100 * 365 * DAY_S),
    intermediateLifetimeMs: read.seconds('AS_INTERMEDIATE_LIFETIME_S', 180 * DAY_S, 600, 10 * 365 * DAY_S),
    clientCredentialLifetimeMs: read.seconds('AS_CLIENT_CREDENTIAL_LIFETIME_S', 90 * DAY_S, 60, 10 * 365 * DAY_S),
    maxClients: read.integer('AS_MAX_CLIENTS', 32, 1, 1000),
    maxDequeue: read.integer('AS_MAX_DEQUEUE', 100, 1, 10_000),
    maxMessageBytes: read.integer('AS_MAX_MESSAGE_BYTES', 65_536, 256, 16_777_216),
    maxConnectionPackages: read.integer('AS_MAX_CONNECTION_PACKAGES', 50, 1, 1000),
  }, 'AS configuration');
}

export function readAasSettings(env: SettingsSource): AasSettings {
  const read = new SettingsReader(env);
  return read.done({
    allowance: read.integer('AAS_TOKEN_ALLOWANCE', 1000, 1, 10_000_000),
    timeframeMs: read.seconds('AAS_TOKEN_TIMEFRAME_S', DAY_S, 1, 365 * DAY_S),
    maxBatch: read.integer('AAS_MAX_BATCH', 100, 1, 1000),
    keyRotationMs: read.seconds('AAS_KEY_ROTATION_S', 30 * DAY_S, 60, 365 * DAY_S),
    redeemBatchMs: read.integer('AAS_REDEEM_BATCH_MS', 0, 0, 100),
  }, 'AAS configuration');
}
