// Calls between two threads of one node over a MessagePort. Each end both calls and serves: a call
// names module, key, method and deadline like a bus envelope, and its answer is the reply bytes or a
// typed error. Everything one end sends in an event-loop turn goes as one message, because a
// postMessage costs far more than cloning a few hundred bytes.
import type { MessagePort } from 'node:worker_threads';
import type { hs } from '../schemas/index.js';
import { asHsError, HsError, unavailable } from '../protocol/errors.js';
import type { EnvelopeHandler } from './envelope.js';

interface CallMessage {
  id: number;
  module: string;
  key: string;
  method: string;
  body: Uint8Array;
  deadline: number;
}

interface ReplyMessage {
  id: number;
  body?: Uint8Array;
  error?: hs.common.IError;
}

interface Packet {
  calls: CallMessage[];
  replies: ReplyMessage[];
}

interface Waiting {
  resolve(reply: Uint8Array): void;
  reject(error: HsError): void;
}

/** Structured cloning copies a view's whole ArrayBuffer (often an 8 KiB pool slab): send only the
 *  bytes that belong to it. */
const compact = (bytes: Uint8Array): Uint8Array =>
  (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice());

export class ThreadLink {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private outgoing: Packet = { calls: [], replies: [] };
  private flushScheduled = false;
  private closed = false;

  /** `serve` answers the other end's calls (with this thread's actors); it must reject with HsError. */
  constructor(private readonly port: MessagePort, private readonly serve: EnvelopeHandler) {
    port.on('message', (packet: Packet) => this.receive(packet));
    // A worker's ports close when it exits: nothing sent to it will be answered.
    port.on('close', () => this.close());
  }

  /** Sends a call to the other thread; rejects with HsError (UNAVAILABLE once the link is closed). */
  call(module: string, key: string, method: string, body: Uint8Array, deadline: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(unavailable(`the thread serving ${module} has stopped`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.send('calls', { id, module, key, method, body: compact(body), deadline });
    });
  }

  get open(): boolean {
    return !this.closed;
  }

  /** Fails every unanswered call and stops listening. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiting of this.waiting.values()) waiting.reject(unavailable('the other thread of this node has stopped'));
    this.waiting.clear();
    this.port.close();
  }

  private receive(packet: Packet): void {
    for (const reply of packet.replies) {
      const waiting = this.waiting.get(reply.id);
      if (!waiting) continue;
      this.waiting.delete(reply.id);
      if (reply.error) waiting.reject(HsError.fromWire(reply.error));
      else waiting.resolve(reply.body ?? new Uint8Array());
    }
    for (const call of packet.calls) {
      this.serve(call.module, call.key, call.method, call.body, call.deadline).then(
        (body) => this.send('replies', { id: call.id, body: compact(body) }),
        (error: unknown) => {
          this.send('replies', { id: call.id, error: asHsError(error).toWire() });
        },
      );
    }
  }

  private send<K extends keyof Packet>(list: K, message: Packet[K][number]): void {
    if (this.closed) return;
    (this.outgoing[list] as Packet[K][number][]).push(message);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate rather than a microtask: the replies of every actor turn that finishes in this
    // event-loop turn travel together.
    setImmediate(() => {
      this.flushScheduled = false;
      const packet = this.outgoing;
      this.outgoing = { calls: [], replies: [] };
      if (!this.closed) this.port.postMessage(packet);
    });
  }
}
