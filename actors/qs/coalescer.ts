// Per-queue coalescing of enqueues on one node. A queue actor persists each request before it takes
// the next, so one message per request would cap a busy queue at one database commit per message.
// Instead, while a request to a queue is in flight, further items for it wait here and go together in
// the next request: one commit for all of them, order and sequence numbers still set by the actor.
import { hs } from '../../schemas/index.js';
import { QS_MODULE, type QsContext } from './context.js';

const q = hs.qs;
const ENQUEUE = { request: q.EnqueueRequest, reply: q.EnqueueReply };
/** Bounds the work (and the transaction) of one actor turn. */
const MAX_ITEMS_PER_REQUEST = 256;

/** One item for one queue; `key` is that queue actor's key (idKey of `pcid`), which the caller has. */
export interface CoalescedItem {
  key: string;
  pcid: Uint8Array;
  item: hs.qs.IEnqueueItem;
}

/** The items of one enqueueAll call: answered together once every item has its status (one promise
 *  per call rather than one per item, since a fan-out waits for all of its queues anyway). */
class Group {
  readonly statuses: hs.qs.EnqueueStatus[];
  private remaining: number;
  private open = true;

  constructor(size: number, private readonly resolve: (statuses: hs.qs.EnqueueStatus[]) => void, private readonly reject: (error: unknown) => void) {
    this.statuses = new Array<hs.qs.EnqueueStatus>(size);
    this.remaining = size;
  }

  settle(index: number, status: hs.qs.EnqueueStatus): void {
    this.statuses[index] = status;
    if (--this.remaining === 0 && this.open) {
      this.open = false;
      this.resolve(this.statuses);
    }
  }

  fail(error: unknown): void {
    if (!this.open) return;
    this.open = false;
    this.reject(error);
  }
}

interface Waiting {
  item: hs.qs.IEnqueueItem;
  group: Group;
  index: number;
}

interface QueueLine {
  pcid: Uint8Array;
  waiting: Waiting[];
  busy: boolean;
}

export class EnqueueCoalescer {
  private readonly lines = new Map<string, QueueLine>();

  constructor(private readonly ctx: QsContext) {}

  /** Enqueues each item on its queue; resolves with their statuses, in the same order, once all have
   *  one, or rejects with the first failure. */
  enqueueAll(items: readonly CoalescedItem[]): Promise<hs.qs.EnqueueStatus[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const group = new Group(items.length, resolve, reject);
      for (let index = 0; index < items.length; index++) {
        const { key, pcid, item } = items[index]!;
        let line = this.lines.get(key);
        if (!line) {
          line = { pcid, waiting: [], busy: false };
          this.lines.set(key, line);
        }
        line.waiting.push({ item, group, index });
        if (!line.busy) this.send(key, line);
      }
    });
  }

  /** Sends the line's waiting items as one request; when it is answered, the items that came
   *  meanwhile (callbacks rather than an async loop: this runs for every request). */
  private send(key: string, line: QueueLine): void {
    line.busy = true;
    const batch = line.waiting.splice(0, MAX_ITEMS_PER_REQUEST);
    // Typed: within the node the request and reply are handed over, not encoded (nothing here
    // changes them afterwards). Sent without a promise or timer of its own: the fan-out's caller
    // waits with a deadline.
    this.ctx.actors.sendTyped(QS_MODULE, key, 'Enqueue', { pcid: line.pcid, items: batch.map((w) => w.item) }, ENQUEUE, (reply) => {
      for (let i = 0; i < batch.length; i++) {
        const waiting = batch[i]!;
        waiting.group.settle(waiting.index, reply.statuses[i] ?? q.EnqueueStatus.ENQUEUE_STATUS_UNSPECIFIED);
      }
      this.next(key, line);
    }, (error) => {
      for (const waiting of batch) waiting.group.fail(error);
      this.next(key, line);
    });
  }

  private next(key: string, line: QueueLine): void {
    if (line.waiting.length > 0) {
      this.send(key, line);
      return;
    }
    line.busy = false;
    this.lines.delete(key);
  }
}
