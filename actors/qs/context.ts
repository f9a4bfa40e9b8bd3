// What every QS actor kind shares: settings, server keys, the operator key, and typed calls to the
// module's own actors over the bus.
import { encodeMessage } from '../../schemas/index.js';
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { OperatorKey } from '../runtime/operator-key.js';
import type { Bus } from '../../transport/bus.js';
import type { ActorClient } from '../../transport/envelope.js';
import { domainToken } from '../../transport/subjects.js';
import { sha256 } from '../../protocol/crypto/index.js';
import type { QsServerKeys } from './server-keys.js';
import type { QsSettings } from './settings.js';
import type { ListenLeases } from './listen-leases.js';

export const QS_MODULE = 'qs';

export interface QsContext {
  domain: string;
  settings: QsSettings;
  keys: QsServerKeys;
  operatorKey: OperatorKey;
  orm: MikroORM;
  actors: ActorClient;
  bus: Bus;
  log: Logger;
  /** This thread's queues with a live listener. */
  listening: ListenLeases;
}

interface Codec<T, R> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): R;
}

/** Calls a QS actor (by key) and decodes its reply; errors arrive as HsError. */
export async function callQs<Request, Reply>(ctx: QsContext, key: string, method: string, request: Request,
  requestType: Codec<Request, unknown>, replyType: Codec<unknown, Reply>): Promise<Reply> {
  const bytes = await ctx.actors.call(QS_MODULE, key, method, encodeMessage(requestType, request));
  return replyType.decode(bytes);
}

/** The bus subject a queue's live listener follows: a hash of the PCID, so the bus never carries it. */
export function listenSubject(domain: string, pcid: Uint8Array): string {
  return `hs.${domainToken(domain)}.${QS_MODULE}.listen.${Buffer.from(sha256(pcid).subarray(0, 16)).toString('hex')}`;
}
