// Encoding of requests and replies on the bus, and the two ends that use it: ActorClient (any caller)
// and serveModule (the node that owns the shards). A node that serves every shard of a module itself
// may register it with ActorClient.serveLocally: calls to it then skip the bus (same errors, same
// deadline), because a round trip through the NATS server costs more CPU than most actor turns.
import { randomUUID } from 'node:crypto';
import { encodeMessage, hs, type Encodable } from '../schemas/index.js';
import { asHsError, badRequest, deadlineExceeded, HsError } from '../protocol/errors.js';
import type { Bus, Subscription } from './bus.js';
import { actorSubject, shardSubject } from './subjects.js';

export interface CallOptions {
  /** How long to wait for the reply. */
  timeoutMs?: number;
  requestId?: string;
}

/** Calls actors by module, key and method, wherever they live. Rejects with HsError. */
export class ActorClient {
  /** The modules this node serves itself, and how to reach their actors in-process. */
  private readonly local = new Map<string, { handler: EnvelopeHandler; typed?: TypedHandler; placement?: Placement }>();

  constructor(
    private readonly bus: Bus,
    readonly domain: string,
    private readonly shardCount: number,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** From now on, calls to `module` go straight to `handler`: only for a module whose every shard this
   *  node serves (otherwise some actors would get a second activation here). */
  serveLocally(module: string, handler: EnvelopeHandler, typed?: TypedHandler, placement?: Placement): void {
    this.local.set(module, { handler, typed, placement });
  }

  /** Where this node runs the module's actors, when it serves the module itself (so a caller can hand
   *  one thread all its work at once, or pick a stateless actor on its own thread); else undefined. */
  placementOf(module: string): Placement | undefined {
    return this.local.get(module)?.placement;
  }

  /**
   * `call` with the request and reply as objects. Within this node the actor may get `request`
   * itself and the caller the actor's own reply object, uncopied: hand over only a request you no
   * longer change, with every field the method reads, and only read the reply. Elsewhere it travels
   * encoded like any call. For hot internal paths, where encoding both ways would cost more than the
   * actor's turn.
   */
  callTyped<Request, Reply>(module: string, key: string, method: string, request: Request,
    types: { request: Encodable<Request>; reply: { decode(bytes: Uint8Array): Reply } }, options: CallOptions = {}): Promise<Reply> {
    const typed = this.local.get(module)?.typed;
    // Not an async function: on the in-process path that would add a promise and a turn of the
    // microtask queue to every call.
    if (typed) {
      const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
      return withDeadline<unknown>(module, method, timeoutMs, (deadline, answer, fail) => typed(module, key, method, request, deadline, answer, fail)) as Promise<Reply>;
    }
    return this.callEncoded(module, key, method, request, types, options);
  }

  /**
   * `callTyped` without a promise or a timer: `answer` gets the reply, or `fail` an HsError, once.
   * Nothing here gives up on an actor that never answers (a mail still expires if it waits past the
   * default timeout for its turn), so this is only for hot in-process paths whose own caller waits
   * with a deadline, where a promise and a timer per call cost more than the rest of the call.
   */
  sendTyped<Request, Reply>(module: string, key: string, method: string, request: Request,
    types: { request: Encodable<Request>; reply: { decode(bytes: Uint8Array): Reply } }, answer: (reply: Reply) => void, fail: (error: HsError) => void): void {
    const typed = this.local.get(module)?.typed;
    if (typed) typed(module, key, method, request, Date.now() + this.defaultTimeoutMs, answer as (reply: unknown) => void, fail);
    else this.callEncoded(module, key, method, request, types, {}).then(answer, (error: unknown) => fail(asHsError(error)));
  }

  private async callEncoded<Request, Reply>(module: string, key: string, method: string, request: Request,
    types: { request: Encodable<Request>; reply: { decode(bytes: Uint8Array): Reply } }, options: CallOptions): Promise<Reply> {
    return types.reply.decode(await this.call(module, key, method, encodeMessage(types.request, request), options));
  }

  async call(module: string, key: string, method: string, body: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const local = this.local.get(module)?.handler;
    if (local) return withDeadline(module, method, timeoutMs, (deadline, answer, fail) => void local(module, key, method, body, deadline).then(answer, fail));
    const requestId = options.requestId ?? randomUUID();
    const envelope = hs.common.RequestEnvelope.encode({
      requestId, deadlineUnixMs: Date.now() + timeoutMs, method, key, body,
    }).finish();
    const subject = actorSubject(this.domain, module, key, this.shardCount);
    const replyBytes = await this.bus.request(subject, envelope, timeoutMs);
    const reply = hs.common.ReplyEnvelope.decode(replyBytes);
    if (reply.error) throw HsError.fromWire(reply.error);
    return reply.body ?? new Uint8Array();
  }
}

export type EnvelopeHandler = (module: string, key: string, method: string, body: Uint8Array, deadline: number) => Promise<Uint8Array>;

/** Where a locally served module's actors run: the thread serving a key, and the caller's own. */
export interface Placement {
  threadOf(key: string): number;
  readonly thread: number;
}

/** An in-process handler of typed calls (see ActorClient.callTyped): settles each through `answer` or
 *  `fail` (with an HsError), once. */
export type TypedHandler = (module: string, key: string, method: string, request: unknown, deadline: number,
  answer: (reply: unknown) => void, fail: (error: HsError) => void) => void;


/** Serves one module's shards: decodes each envelope, hands it to `handler`, and always replies, with
 *  the result or with a typed error. */
export async function serveModule(
  bus: Bus, domain: string, module: string, shards: Iterable<number>, handler: EnvelopeHandler,
): Promise<Subscription[]> {
  const serveEnvelope = async (data: Uint8Array): Promise<Uint8Array> => {
    let request: hs.common.RequestEnvelope;
    try {
      request = hs.common.RequestEnvelope.decode(data);
    } catch {
      return encodeError('', badRequest('malformed request envelope'));
    }
    const deadline = request.deadlineUnixMs;
    if (deadline !== 0 && Date.now() > deadline) return encodeError(request.requestId, deadlineExceeded('request arrived after its deadline'));
    try {
      const body = await handler(module, request.key, request.method, request.body, deadline);
      return hs.common.ReplyEnvelope.encode({ requestId: request.requestId, body }).finish();
    } catch (error) {
      return encodeError(request.requestId, asHsError(error));
    }
  };
  const subscriptions: Subscription[] = [];
  for (const shard of shards) subscriptions.push(await bus.serve(shardSubject(domain, module, shard), serveEnvelope));
  return subscriptions;
}

/** A call to a module served in this process, with the bus path's contract: rejects with HsError only,
 *  and with DEADLINE_EXCEEDED when no reply comes in time. */
function withDeadline<T>(module: string, method: string, timeoutMs: number,
  start: (deadline: number, answer: (reply: T) => void, fail: (error: unknown) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(deadlineExceeded(`no reply from ${module}/${method} within ${timeoutMs} ms`)), timeoutMs);
    start(Date.now() + timeoutMs, (reply) => {
      clearTimeout(timer);
      resolve(reply);
    }, (error: unknown) => {
      clearTimeout(timer);
      reject(asHsError(error));
    });
  });
}

function encodeError(requestId: string, error: HsError): Uint8Array {
  return hs.common.ReplyEnvelope.encode({ requestId, error: error.toWire() }).finish();
}
