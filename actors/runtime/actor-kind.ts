// How a kind of actor is described: its state and codec, and the methods it answers. Kinds are plain
// data; activation, ordering, persistence and supervision are the runtime's business.
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { Bus } from '../../transport/bus.js';
import type { ActorClient } from '../../transport/envelope.js';
import type { OperatorKey } from './operator-key.js';
import type { StreamAuthorizer } from '../../transport/gateway.js';
import { HsError, type ErrorCode } from '../../protocol/errors.js';

/** A generated protobufjs message class, as the runtime and gateway need it: it decodes to the class
 *  (`Decoded`, every field present) and encodes from plain properties (`Encodable`). */
export interface WireType<Decoded, Encodable> {
  encode(message: Encodable): { finish(): Uint8Array };
  decode(bytes: Uint8Array): Decoded;
  fromObject(object: { [key: string]: unknown }): Decoded;
  toObject(message: Decoded, options?: { longs?: unknown; enums?: unknown; bytes?: unknown; defaults?: boolean; oneofs?: boolean }): { [key: string]: unknown };
}

export interface ActorContext {
  readonly kind: string;
  readonly key: string;
  readonly log: Logger;
}

/** A SQL statement with `?` placeholders, run by the snapshot store. */
export interface SqlStatement {
  sql: string;
  params: unknown[];
}

/** One row for a table of the module's own; the store merges inserts of many actors into multi-row
 *  statements, so prefer this to an equivalent SqlStatement on hot paths. Names are plain SQL
 *  identifiers (lower case); keep the column order the same for every row of a table. */
export interface RowInsert {
  insertInto: string;
  values: Record<string, unknown>;
}

export type RecordWrite = SqlStatement | RowInsert;

export interface Outcome<State, Reply> {
  reply: Reply;
  /** A new state, persisted before the reply is sent; `null` deletes the actor's snapshot; absent
   *  means nothing changed. */
  state?: State | null;
  /** Rows the actor keeps outside its snapshot (e.g. queued messages), written in the same
   *  transaction as the new state and only if that state write succeeds. */
  records?: RecordWrite[];
  /** The new state can be rebuilt from this outcome's records (ActorKind.catchUp folds them into the
   *  last snapshot), so only the records are written and the snapshot row is left alone: one row
   *  insert instead of an insert and an update, for a busy actor's appends (queued messages). The
   *  records must fence themselves: a unique key that a stale activation's records would collide with.
   *  Needs a new `state` and at least one record. */
  journal?: boolean;
  /** Work that must only happen once the outcome is durable (e.g. notifying a listener); runs right
   *  after the reply is sent. It must not throw (failures are logged) and cannot change the state. */
  afterCommit?: () => void;
}

/** Who may call a method through the gateway. `gated` (the default): only requests the node's gate
 *  admits (a Privacy Pass token once the AAS module is installed); `public`: anyone (registration,
 *  public keys); `internal`: never through the gateway, only from other actors over the bus. */
export type MethodAccess = 'public' | 'gated' | 'internal';

export interface ActorMethod<State, Request, Reply> {
  /** Defaults to `gated`. */
  access?: MethodAccess;
  request: WireType<Request, unknown>;
  response: WireType<unknown, Reply>;
  /** Which actor a request is for; the gateway and bus route on it. */
  keyOf(request: NoInfer<Request>): string;
  /** Throw an HsError for a refused request: the actor then drops whatever it changed in memory. */
  handle(state: State, request: Request, ctx: ActorContext): Outcome<State, Reply> | Promise<Outcome<State, Reply>>;
}

export interface ActorKind<State> {
  /** Unique per node; also the snapshot table's kind column. */
  readonly name: string;
  /** Its actors keep nothing between messages (e.g. routing or fan-out workers): activation skips the
   *  snapshot read. Such a kind must not return a state. */
  readonly stateless?: boolean;
  initialState(key: string): State;
  encodeState(state: State): Uint8Array;
  decodeState(data: Uint8Array): State;
  /** For kinds with journal outcomes: brings the state decoded from the snapshot up to date with the
   *  records journaled after it. Runs on every activation that found a snapshot. */
  catchUp?(state: State, key: string): Promise<State>;
  // Each method has its own request and reply types, so the map cannot name one of them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly methods: Readonly<Record<string, ActorMethod<State, any, any>>>;
}

/** The state of a stateless kind: nothing. */
export type Stateless = Record<string, never>;

/** A kind whose actors keep nothing between messages: never read from or written to the store. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function statelessKind(name: string, methods: Record<string, ActorMethod<Stateless, any, any>>): ActorKind<Stateless> {
  return { name, stateless: true, initialState: () => ({}), encodeState: () => new Uint8Array(), decodeState: () => ({}), methods };
}

/** Returns an identity helper for one kind's methods, so TypeScript infers each method's request and
 *  reply types from its wire types: `const method = methodsOf<MyState>();`. */
export function methodsOf<State>() {
  return <Request, Reply>(method: ActorMethod<State, Request, Reply>): ActorMethod<State, Request, Reply> => method;
}

/** What the gateway shows a gate of one HTTP request (before the body is read by any actor). */
export interface GateRequest {
  readonly module: string;
  readonly method: string;
  /** A request header by lower-case name; the first value when repeated. */
  header(name: string): string | undefined;
}

/** Admits a request to a `gated` method or throws: an HsError, or a GateRefusal to add response
 *  headers (e.g. an authentication challenge). */
export type RequestGate = (request: GateRequest) => Promise<void> | void;

/** A refusal by a gate that also tells the caller how to get in, in response headers. */
export class GateRefusal extends HsError {
  constructor(code: ErrorCode, message: string, readonly headers: Readonly<Record<string, string>>) {
    super(code, message);
  }
}

/** A module (as, aas, qs, ds, ...) is a named set of actor kinds served under hs.<domain>.<module>. */
export interface ModuleDefinition {
  readonly name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly kinds: readonly ActorKind<any>[];
  /** The gate for every `gated` method of every module on the node; at most one module brings one. */
  readonly gate?: RequestGate;
  /** WebSocket streams the node serves at /v1/stream/<name> (e.g. live queue listening). */
  readonly streams?: Readonly<Record<string, StreamAuthorizer>>;
}

/** What a node lends its modules when it builds them. */
export interface ModuleDeps {
  readonly domain: string;
  /** Calls any actor of this or another module, on this node or another. */
  readonly actors: ActorClient;
  readonly bus: Bus;
  /** For modules that read rows they keep outside snapshots; writes go through Outcome.records. */
  readonly orm: MikroORM;
  readonly log: Logger;
  /** The operator key that seals secrets at rest; loaded on first use (HS_OPERATOR_KEY, or generated
   *  into the data directory in embedded mode), so a node whose modules need none never asks for it. */
  operatorKey(): OperatorKey;
  /** The node's raw configuration source (environment), for module-specific settings. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Builds a module on one thread of a node. A factory with a `source` can also be built by the node's
 *  other threads, which import it from there (closures cannot cross threads). */
export type ModuleFactory = ((deps: ModuleDeps) => ModuleDefinition | Promise<ModuleDefinition>) & { readonly source?: ModuleSource };

/** An ES module export that holds a ModuleFactory. */
export interface ModuleSource {
  readonly url: string;
  readonly exportName: string;
}

/** Marks `factory` as the export `exportName` of the module at `url` (pass import.meta.url). */
export function exportedModule(factory: ModuleFactory, url: string, exportName: string): ModuleFactory {
  return Object.assign((deps: ModuleDeps) => factory(deps), { source: { url, exportName } });
}
