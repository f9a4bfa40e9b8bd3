// The HTTP/WebSocket face of a node. `POST /v1/<module>/<Method>` takes the method's request as
// protobuf (application/x-protobuf) or proto3 JSON (application/json), finds the actor key, and calls
// the actor over the bus; the reply comes back in the request's format. Errors are typed both ways.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { Logger } from 'pino';
import { hs } from '../schemas/index.js';
import { asHsError, badRequest, ErrorCode, HsError, internal, notFound } from '../protocol/errors.js';
import type { MethodTable, ResolvedMethod } from '../actors/runtime/method-table.js';
import { GateRefusal, type RequestGate } from '../actors/runtime/actor-kind.js';
import type { Bus } from './bus.js';
import type { ActorClient } from './envelope.js';
import { errorCodeOfStatus, httpStatusOf } from './http-status.js';

export const PROTOBUF = 'application/x-protobuf';
export const JSON_TYPE = 'application/json';
export const STREAM_READY = 'ready';

/** proto3 JSON conventions for output: enum names, base64 bytes, numbers for 64-bit integers. */
const JSON_OUTPUT = { enums: String, bytes: String, longs: Number, defaults: false, oneofs: false } as const;

export interface GatewayOptions {
  methods: MethodTable;
  actors: ActorClient;
  bus: Bus;
  log: Logger;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  /** Admits requests to `gated` methods; without one, gated methods are open (no AAS installed). */
  gate?: RequestGate;
  /** Called once per finished API request, for metrics. */
  observe?: (route: string, status: number, seconds: number) => void;
}

/** What an authorised stream follows: a bus subject and, if its interest must be kept alive, a
 *  renewal the gateway runs every `renew.everyMs` while the socket is open (a refusal closes it). */
export interface StreamGrant {
  subject: string;
  renew?: { everyMs: number; run(): Promise<void> };
}

/** Decides whether a WebSocket may listen and what it follows; throws HsError to refuse. */
export type StreamAuthorizer = (firstFrame: Uint8Array) => Promise<StreamGrant>;

type Format = 'protobuf' | 'json';

/** Errors that say "not now" rather than "no". */
const TRANSIENT = new Set<ErrorCode>([ErrorCode.UNAVAILABLE, ErrorCode.DEADLINE_EXCEEDED]);

export class Gateway {
  readonly app: FastifyInstance;
  private readonly streams = new Map<string, StreamAuthorizer>();
  private closing = false;

  constructor(private readonly options: GatewayOptions) {
    this.app = Fastify({ bodyLimit: options.bodyLimitBytes, logger: false });
    this.app.removeAllContentTypeParsers();
    for (const type of [PROTOBUF, JSON_TYPE]) {
      this.app.addContentTypeParser(type, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    }
    this.app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
      if (error instanceof HsError) return sendError(reply, formatOf(request), error);
      // The framework's own refusals (body too large, bad media type) are the caller's fault.
      if (error.statusCode && error.statusCode < 500) {
        return sendError(reply, formatOf(request), new HsError(errorCodeOfStatus(error.statusCode), error.message));
      }
      options.log.error({ err: { type: error.name, message: error.message } }, 'gateway request failed');
      return sendError(reply, formatOf(request), internal('request failed'));
    });
    this.app.setNotFoundHandler((request, reply) =>
      sendError(reply, formatOf(request), notFound(`no route ${request.method} ${request.url.split('?')[0]}`)));
    this.app.post('/v1/:module/:method', (request, reply) => this.handleCall(request, reply));
    this.app.addHook('onSend', async (_request, reply, payload) => {
      if (this.closing) reply.header('connection', 'close');
      return payload;
    });
  }

  /** Registers a WebSocket stream at /v1/stream/<name>: the first binary frame is handed to
   *  `authorize`, which returns the bus subject to follow; the server answers with the text frame
   *  "ready" and then forwards each message on that subject as a binary frame. A refusal closes the
   *  socket with code 4000 + the error's HTTP status. */
  addStream(name: string, authorize: StreamAuthorizer): void {
    if (this.streams.has(name)) throw new Error(`stream ${name} is registered twice`);
    this.streams.set(name, authorize);
  }

  async listen(host: string, port: number): Promise<number> {
    await this.app.register(websocket, { options: { maxPayload: this.options.bodyLimitBytes } });
    this.app.register(async (scoped) => {
      scoped.get('/v1/stream/:name', { websocket: true }, (socket, request) => {
        const name = (request.params as { name: string }).name;
        const authorize = this.streams.get(name);
        if (!authorize) {
          socket.close(4404, 'unknown stream');
          return;
        }
        const refuse = (error: unknown): void => {
          const typed = error instanceof HsError ? error : internal('stream setup failed');
          socket.close(4000 + httpStatusOf(typed.code), typed.message.slice(0, 120));
        };
        socket.once('message', async (frame: Buffer) => {
          try {
            const grant = await authorize(new Uint8Array(frame));
            const subscription = await this.options.bus.subscribe(grant.subject, (data) => socket.send(data));
            const renew = grant.renew;
            // A renewal that cannot get through now (unavailable, timed out) is tried again at the
            // next one; a refusal ends the stream.
            const renewal = renew && setInterval(() => void renew.run().catch((error: unknown) => {
              if (error instanceof HsError && TRANSIENT.has(error.code)) {
                this.options.log.warn({ stream: name, code: error.code }, 'stream renewal failed; retrying at the next');
              } else {
                refuse(error);
              }
            }), renew.everyMs);
            renewal?.unref();
            socket.on('close', () => {
              clearInterval(renewal);
              void subscription.unsubscribe();
            });
            // The one text frame of the protocol: from now on every published message is forwarded.
            socket.send(STREAM_READY);
          } catch (error) {
            refuse(error);
          }
        });
      });
    });
    await this.app.listen({ host, port });
    const address = this.app.server.address();
    return typeof address === 'object' && address ? address.port : port;
  }

  /** Stops accepting, lets in-flight requests finish, then closes every connection. */
  async close(): Promise<void> {
    this.closing = true;
    // Keep-alive connections that finish a request during the close would otherwise stay open for
    // the keep-alive timeout: close them as soon as they fall idle.
    const sweeper = setInterval(() => this.app.server.closeIdleConnections(), 50);
    try {
      await this.app.close();
    } finally {
      clearInterval(sweeper);
    }
  }

  private async handleCall(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const started = process.hrtime.bigint();
    const { module, method } = request.params as { module: string; method: string };
    const format = formatOf(request);
    const resolved = this.options.methods.resolve(module, method);
    const route = resolved ? `${module}/${method}` : 'unknown';
    try {
      if (!resolved || resolved.method.access === 'internal') throw notFound(`unknown method ${module}/${method}`);
      if (this.options.gate && (resolved.method.access ?? 'gated') === 'gated') {
        const headers = request.headers;
        await this.options.gate({ module, method, header: (name) => firstValue(headers[name]) });
      }
      const body = request.body;
      if (!(body instanceof Buffer)) throw new HsError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, `send ${PROTOBUF} or ${JSON_TYPE}`);
      const { key, bytes } = decodeRequest(resolved, body, format);
      const replyBytes = await this.options.actors.call(module, key, method, bytes, { timeoutMs: this.options.requestTimeoutMs });
      await sendReply(reply, format, resolved, replyBytes);
    } catch (error) {
      await sendError(reply, format, asHsError(error));
    } finally {
      this.options.observe?.(route, reply.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}

function formatOf(request: FastifyRequest): Format {
  const type = request.headers['content-type'] ?? '';
  return type.startsWith(JSON_TYPE) ? 'json' : 'protobuf';
}

/** Validates the request against its schema and finds the actor key; the bus always carries protobuf. */
function decodeRequest(resolved: ResolvedMethod, body: Buffer, format: Format): { key: string; bytes: Uint8Array } {
  const wire = resolved.method.request;
  let decoded: unknown;
  let bytes: Uint8Array;
  try {
    if (format === 'json') {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
      decoded = wire.fromObject(parsed as Record<string, unknown>);
      bytes = wire.encode(decoded).finish();
    } else {
      bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      decoded = wire.decode(bytes);
    }
  } catch (error) {
    throw badRequest(`malformed ${resolved.module}/${resolved.name} request: ${(error as Error).message}`);
  }
  return { key: resolved.method.keyOf(decoded), bytes };
}

async function sendReply(reply: FastifyReply, format: Format, resolved: ResolvedMethod, bytes: Uint8Array): Promise<void> {
  if (format === 'json') {
    const response = resolved.method.response;
    await reply.code(200).type(JSON_TYPE).send(JSON.stringify(response.toObject(response.decode(bytes), JSON_OUTPUT)));
  } else {
    await reply.code(200).type(PROTOBUF).send(Buffer.from(bytes));
  }
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sendError(reply: FastifyReply, format: Format, error: HsError): FastifyReply {
  reply.code(httpStatusOf(error.code));
  if (error instanceof GateRefusal) reply.headers(error.headers);
  if (format === 'json') {
    return reply.type(JSON_TYPE).send(JSON.stringify({ code: error.codeName, message: error.message }));
  }
  return reply.type(PROTOBUF).send(Buffer.from(hs.common.Error.encode(error.toWire()).finish()));
}
