// One supervisor per actor kind: activates an actor on the first message for its key, hands every
// message straight to that actor (never through the supervisor's own mailbox: nact copies a parent's
// children map on each message it handles), passivates idle actors, and restarts crashed ones from
// their last snapshot.
import { dispatch, spawn, spawnStateless, stop, type ActorSystemRef, type Ref } from 'nact';
import type { Logger } from 'pino';
import { encodeMessage } from '../../schemas/index.js';
import { badRequest, deadlineExceeded, HsError, internal, notFound, unavailable } from '../../protocol/errors.js';
import type { ActorContext, ActorKind, Outcome, WireType } from './actor-kind.js';
import type { JournalSink, SnapshotStore } from './snapshot-store.js';

/**
 * One message and how to answer its caller. Settling it (once) also counts it out of the messages in
 * flight (its activation's, or its stateless kind's). A
 * class rather than an object of closures: tsx names every closure stored in a property (a
 * defineProperty call), which on the path of every message cost more than the rest of the call.
 */
class Mail {
  private open = true;

  constructor(
    readonly method: string,
    /** The encoded request, or (a typed call) the request itself, and then the reply is answered as
     *  the handler made it. */
    readonly body: Uint8Array | Typed,
    /** Unix ms after which nobody waits for the answer; 0 for none. */
    readonly deadline: number,
    private readonly answer: (reply: unknown) => void,
    private readonly fail: (error: HsError) => void,
    /** Whose count of messages in flight to lower once it is settled (for drain()); the activation's,
     *  or the kind's stateless count when there is none. */
    private readonly supervisor: Supervisor<unknown>,
    private readonly activation?: Activation,
  ) {}

  /** The request as the handler takes it; throws when it does not decode. */
  request(type: WireType<unknown, unknown>): unknown {
    return this.body instanceof Typed ? this.body.request : type.decode(this.body);
  }

  /** The handler's reply as the caller takes it: encoded, unless the call was typed. */
  encodeReply(type: WireType<unknown, unknown>, reply: unknown): unknown {
    return this.body instanceof Typed ? reply : encodeMessage(type, reply);
  }

  /** Answers the caller, unless the mail was settled already (the caller hears once). */
  resolve(reply: unknown): void {
    if (this.settle()) this.answer(reply);
  }

  reject(error: HsError): void {
    if (this.settle()) this.fail(error);
  }

  private settle(): boolean {
    if (!this.open) return false;
    this.open = false;
    this.supervisor.settled(this.activation);
    return true;
  }
}

/** A typed call's request, as its in-process caller made it. */
class Typed {
  constructor(readonly request: unknown) {}
}

/** An actor's in-memory state: not yet loaded, or loaded at a snapshot version (0: never saved). */
type Slot<State> = { loaded: false } | Loaded<State>;
type Loaded<State> = { loaded: true; state: State; version: number };
/** What a handler returned, or undefined when it refused. */
type Handled<State> = Outcome<State, unknown> | undefined;

const UNLOADED = { loaded: false } as const;

const MAX_KEY_LENGTH = 512;

interface Activation {
  ref: Ref<Mail>;
  pending: number;
  lastActive: number;
  /** The newest write not yet known to have committed. Replies wait for it, so nobody is told of a
   *  state the database might not hold. */
  lastWrite: WriteInFlight | undefined;
  /** A write failed: the in-memory state is ahead of the database and must be reloaded. */
  stale: boolean;
}

/**
 * One write of an activation on its way to the database, as the store's sink: once it has committed
 * it answers the mail that made it (then runs the outcome's after-commit work); if it fails, the
 * activation is stale and the mail is refused. Replies of later messages that wrote nothing wait for
 * it (`whenSettled`). One object per write instead of a promise with its reactions.
 */
class WriteInFlight implements JournalSink {
  /** undefined while in flight; then null (committed) or the error it failed with. */
  private outcome: HsError | null | undefined;
  private waiting: ((error: HsError | null) => void)[] | undefined;

  constructor(
    private readonly supervisor: Supervisor<unknown>,
    private readonly activation: Activation,
    private readonly mail: Mail,
    private readonly reply: unknown,
    private readonly afterCommit: (() => void) | undefined,
  ) {}

  stillValid(): boolean {
    return !this.activation.stale;
  }

  committed(): void {
    if (this.activation.lastWrite === this) this.activation.lastWrite = undefined;
    this.outcome = null;
    this.supervisor.deliver(this.mail, this.reply, this.afterCommit);
    this.wake(null);
  }

  failed(error: unknown): void {
    this.activation.stale = true;
    const failure = error instanceof HsError ? error : unavailable('could not persist actor state');
    this.outcome = failure;
    this.mail.reject(failure);
    this.wake(failure);
  }

  /** Calls `done` once the write has settled (at once if it has): with null, or the error it failed with. */
  whenSettled(done: (error: HsError | null) => void): void {
    if (this.outcome !== undefined) done(this.outcome);
    else (this.waiting ??= []).push(done);
  }

  private wake(outcome: HsError | null): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) for (const done of waiting) done(outcome);
  }
}

/** nact names allow a restricted alphabet; base64url fits it and keeps keys distinct. */
const actorName = (key: string): string => `k${Buffer.from(key, 'utf8').toString('base64url')}`;

export class Supervisor<State> {
  private readonly activations = new Map<string, Activation>();
  private readonly parent: Ref<never>;
  private accepting = true;
  private statelessPending = 0;
  private drained: (() => void) | undefined;

  constructor(
    system: ActorSystemRef,
    readonly kind: ActorKind<State>,
    private readonly store: SnapshotStore,
    private readonly log: Logger,
  ) {
    this.parent = spawnStateless(system, () => undefined, kind.name) as Ref<never>;
  }

  get activeCount(): number {
    return this.activations.size;
  }

  /** Delivers one encoded request to the actor for `key`; resolves with the encoded reply. */
  call(key: string, method: string, body: Uint8Array, deadline: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => this.post(key, method, body, deadline, resolve as (reply: unknown) => void, reject));
  }

  /** The same without encoding, and without a promise: the handler gets `request` itself, and `answer`
   *  the reply object the handler made (or `fail` an HsError), once. Only for callers in this thread
   *  that hand over a request they no longer change and only read the reply (nothing copies them, as
   *  encoding does). */
  sendTyped(key: string, method: string, request: unknown, deadline: number, answer: (reply: unknown) => void, fail: (error: HsError) => void): void {
    this.post(key, method, new Typed(request), deadline, answer, fail);
  }

  private post(key: string, method: string, body: Uint8Array | Typed, deadline: number, answer: (reply: unknown) => void, fail: (error: HsError) => void): void {
    if (!this.accepting) return fail(unavailable('node is shutting down'));
    if (!Object.hasOwn(this.kind.methods, method)) return fail(notFound(`${this.kind.name} has no method ${method}`));
    // Keys name snapshot rows (at most 512 characters); an empty one means a required field is missing.
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      return fail(badRequest(`${method}: the ${this.kind.name} it addresses must be named by 1 to ${MAX_KEY_LENGTH} characters`));
    }
    if (this.kind.stateless) {
      this.statelessPending++;
      void this.runStateless(key, new Mail(method, body, deadline, answer, fail, this as Supervisor<unknown>));
      return;
    }
    const activation = this.activate(key);
    activation.pending++;
    activation.lastActive = Date.now();
    dispatch(activation.ref, new Mail(method, body, deadline, answer, fail, this as Supervisor<unknown>, activation));
  }

  /** A message of `activation` (none: of a stateless kind) is answered. */
  settled(activation: Activation | undefined): void {
    if (activation) {
      activation.pending--;
      activation.lastActive = Date.now();
    } else {
      this.statelessPending--;
    }
    if (this.drained && this.pendingTotal() === 0) this.drained();
  }

  /** A stateless kind has nothing to keep consistent, so its messages need neither an activation nor
   *  a mailbox: each runs at once, side by side with the others. */
  private async runStateless(key: string, mail: Mail): Promise<void> {
    if (mail.deadline !== 0 && Date.now() > mail.deadline) {
      mail.reject(deadlineExceeded('the request expired while queued'));
      return;
    }
    const ctx: ActorContext = { kind: this.kind.name, key, log: this.log };
    const decoded = this.decode(mail);
    let outcome: Outcome<State, unknown> | undefined;
    try {
      outcome = decoded && await this.handle(ctx, this.kind.initialState(key), mail, decoded.request);
    } catch (error) {
      // The caller already has INTERNAL; there is no state to reset.
      this.log.error({ kind: this.kind.name, err: describe(error) }, 'stateless handler crashed');
      return;
    }
    if (!outcome) return;
    if (outcome.state !== undefined || (outcome.records?.length ?? 0) > 0) {
      mail.reject(internal(`${this.kind.name} is stateless but ${mail.method} returned a state`));
      return;
    }
    this.replyAfter(undefined, mail, mail.encodeReply(this.kind.methods[mail.method]!.response, outcome.reply), outcome.afterCommit);
  }

  /** The decoded request, or undefined when it is malformed (the mail is then refused). */
  private decode(mail: Mail): { request: unknown } | undefined {
    try {
      return { request: mail.request(this.kind.methods[mail.method]!.request) };
    } catch (error) {
      mail.reject(badRequest(`malformed ${mail.method} request: ${(error as Error).message}`));
      return undefined;
    }
  }

  /** Runs the method; synchronous when its handler is. Returns undefined when the handler refused. */
  private handle(ctx: ActorContext, state: State, mail: Mail, request: unknown): Handled<State> | Promise<Handled<State>> {
    let result: Handled<State> | Promise<Handled<State>>;
    try {
      result = this.kind.methods[mail.method]!.handle(state, request, ctx);
    } catch (error) {
      return this.refuse(mail, error);
    }
    return result instanceof Promise ? result.then(undefined, (error: unknown) => this.refuse(mail, error)) : result;
  }

  /** A handler threw. An HsError is a refusal, passed to the caller. Anything else is a crash: the
   *  caller gets INTERNAL and the error is rethrown for supervision. */
  private refuse(mail: Mail, error: unknown): undefined {
    if (error instanceof HsError) {
      mail.reject(error);
      return undefined;
    }
    const restart = this.kind.stateless ? '' : '; the actor was restarted from its last snapshot';
    mail.reject(internal(`${this.kind.name}.${mail.method} failed${restart}`));
    throw error;
  }

  /** Stops actors with nothing in flight that have been idle for at least `idleMs`. Their state is
   *  already persisted (every change is written before it is acknowledged), so nothing is flushed. */
  passivateIdle(idleMs: number, now = Date.now()): number {
    let stopped = 0;
    for (const [key, activation] of this.activations) {
      if (activation.pending === 0 && now - activation.lastActive >= idleMs) {
        this.activations.delete(key);
        stop(activation.ref);
        stopped++;
      }
    }
    return stopped;
  }

  /** Refuses new messages, waits for those in flight, then stops every actor. */
  async drain(): Promise<void> {
    this.accepting = false;
    if (this.pendingTotal() > 0) await new Promise<void>((resolve) => { this.drained = resolve; });
    this.passivateIdle(0);
    stop(this.parent);
  }

  private pendingTotal(): number {
    let total = this.statelessPending;
    for (const activation of this.activations.values()) total += activation.pending;
    return total;
  }

  private activate(key: string): Activation {
    const existing = this.activations.get(key);
    if (existing) return existing;
    const ctx: ActorContext = { kind: this.kind.name, key, log: this.log };
    const activation: Activation = { ref: undefined as unknown as Ref<Mail>, pending: 0, lastActive: Date.now(), lastWrite: undefined, stale: false };
    const ref = spawn(this.parent, (slot: Slot<State>, mail: Mail) => this.receive(ctx, activation, slot, mail), actorName(key), {
      initialState: UNLOADED as Slot<State>,
      // A crash has already answered its caller; resetting drops the in-memory state so the next
      // message reloads the last snapshot. Other actors are untouched.
      onCrash: (_msg, error, supervision) => {
        this.log.error({ kind: this.kind.name, err: describe(error) }, 'actor crashed; restarting from its last snapshot');
        return supervision.reset;
      },
    });
    activation.ref = ref;
    this.activations.set(key, activation);
    return activation;
  }

  /**
   * Handles one message. Writes are pipelined: the actor goes on to its next message while the
   * previous state is being committed (the store commits an actor's writes in order, each conditional
   * on the version before it), and every reply is held until the writes before it have committed.
   * If a write fails, the writes after it fail their version check too, and the actor reloads.
   */
  private receive(ctx: ActorContext, activation: Activation, slot: Slot<State>, mail: Mail): Slot<State> | Promise<Slot<State>> {
    if (mail.deadline !== 0 && Date.now() > mail.deadline) {
      mail.reject(deadlineExceeded('the request expired while queued'));
      return slot;
    }
    if (slot.loaded && !activation.stale) return this.turn(ctx, activation, slot, mail);
    return this.reload(ctx.key, activation).then((current) => this.turn(ctx, activation, current, mail), (error: unknown) => {
      mail.reject(error instanceof HsError ? error : unavailable('could not load actor state'));
      return UNLOADED;
    });
  }

  /** One message on a loaded state, without a promise of its own when the method's handler is
   *  synchronous (each await is a turn of the microtask queue, on every message). */
  private turn(ctx: ActorContext, activation: Activation, current: Loaded<State>, mail: Mail): Slot<State> | Promise<Slot<State>> {
    const decoded = this.decode(mail);
    if (!decoded) return current;
    const handled = this.handle(ctx, current.state, mail, decoded.request);
    return handled instanceof Promise
      ? handled.then((outcome) => this.apply(ctx, activation, current, mail, outcome))
      : this.apply(ctx, activation, current, mail, handled);
  }

  /** Writes what the handler's outcome changed and replies once that has committed. */
  private apply(ctx: ActorContext, activation: Activation, current: Loaded<State>, mail: Mail, outcome: Handled<State>): Slot<State> {
    // Refused: the handler may have changed the state before refusing; forget it, reload on next use.
    if (!outcome) return UNLOADED;
    const reply = mail.encodeReply(this.kind.methods[mail.method]!.response, outcome.reply);
    if (outcome.state === undefined && (outcome.records?.length ?? 0) === 0) {
      this.replyAfter(activation.lastWrite, mail, reply, outcome.afterCommit);
      return current;
    }
    if (outcome.journal && !(this.kind.catchUp && outcome.state && (outcome.records?.length ?? 0) > 0)) {
      mail.reject(internal(`${this.kind.name}.${mail.method} returned a journal outcome without catchUp, state or records`));
      return UNLOADED;
    }
    // Records without a new state still bump the version, which fences them like any write.
    const state = outcome.state === undefined ? current.state : outcome.state;
    // Encoded first: should encoding throw, no write is left in flight that would never settle.
    const data = outcome.journal || state === null ? null : this.kind.encodeState(state);
    const write = new WriteInFlight(this as Supervisor<unknown>, activation, mail, reply, outcome.afterCommit);
    activation.lastWrite = write;
    if (outcome.journal) this.store.appendTo(this.kind.name, ctx.key, current.version, outcome.records!, write);
    else this.store.saveTo(this.kind.name, ctx.key, current.version, data, outcome.records ?? [], write);
    if (state === null) return { loaded: true, state: this.kind.initialState(ctx.key), version: 0 };
    // A journal write leaves the version, and usually the state object, as they were (no new slot).
    if (outcome.journal) return state === current.state ? current : { loaded: true, state, version: current.version };
    return { loaded: true, state, version: current.version + 1 };
  }

  /** Sends the reply once `write` (if any) has committed, then runs the outcome's after-commit work. */
  private replyAfter(write: WriteInFlight | undefined, mail: Mail, reply: unknown, afterCommit: (() => void) | undefined): void {
    if (!write) {
      this.deliver(mail, reply, afterCommit);
      return;
    }
    write.whenSettled((error) => {
      if (error) mail.reject(error);
      else this.deliver(mail, reply, afterCommit);
    });
  }

  /** Answers `mail`, then runs the after-commit work (for WriteInFlight too). */
  deliver(mail: Mail, reply: unknown, afterCommit: (() => void) | undefined): void {
    mail.resolve(reply);
    if (!afterCommit) return;
    try {
      afterCommit();
    } catch (error) {
      this.log.error({ kind: this.kind.name, err: describe(error) }, 'after-commit work failed');
    }
  }

  /** Loads the last committed state, after the writes still in flight have settled. */
  private async reload(key: string, activation: Activation): Promise<Loaded<State>> {
    const pending = activation.lastWrite;
    if (pending) await new Promise<void>((resolve) => pending.whenSettled(() => resolve()));
    activation.lastWrite = undefined;
    activation.stale = false;
    return this.load(key);
  }

  private async load(key: string): Promise<Loaded<State>> {
    const snapshot = await this.store.load(this.kind.name, key);
    if (!snapshot) return { loaded: true, state: this.kind.initialState(key), version: 0 };
    const state = this.kind.decodeState(snapshot.data);
    return { loaded: true, state: this.kind.catchUp ? await this.kind.catchUp(state, key) : state, version: snapshot.version };
  }
}

/** Error details for logs: type and message only, never request contents. */
function describe(error: unknown): { type: string; message: string } {
  return error instanceof Error ? { type: error.name, message: error.message } : { type: typeof error, message: String(error) };
}
