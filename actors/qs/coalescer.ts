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

interface Waiting {
  item: hs.qs.IEnqueueItem;
  resolve(status: hs.qs.EnqueueStatus): void;
  reject(error: unknown): void;
}

interface QueueLine {
  pcid: Uint8Array;
  waiting: Waiting[];
  busy: boolean;
}

export class EnqueueCoalescer {
  private readonly lines = new Map<string, QueueLine>();

  constructor(private readonly ctx: QsContext) {}

  /** `key` is the queue actor's key (idKey of `pcid`), which the caller already has. */
  enqueue(key: string, pcid: Uint8Array, item: hs.qs.IEnqueueItem): Promise<hs.qs.EnqueueStatus> {
    let line = this.lines.get(key);
    if (!line) {
      line = { pcid, waiting: [], busy: false };
      this.lines.set(key, line);
    }
    const result = new Promise<hs.qs.EnqueueStatus>((resolve, reject) => line.waiting.push({ item, resolve, reject }));
    if (!line.busy) void this.send(key, line);
    return result;
  }

  private async send(key: string, line: QueueLine): Promise<void> {
    line.busy = true;
    while (line.waiting.length > 0) {
      const batch = line.waiting.splice(0, MAX_ITEMS_PER_REQUEST);
      try {
        // Typed: within the node the request and reply are handed over, not encoded (nothing here
        // changes them afterwards).
        const reply = await this.ctx.actors.callTyped(QS_MODULE, key, 'Enqueue', { pcid: line.pcid, items: batch.map((w) => w.item) }, ENQUEUE);
        batch.forEach((waiting, i) => waiting.resolve(reply.statuses[i] ?? q.EnqueueStatus.ENQUEUE_STATUS_UNSPECIFIED));
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    line.busy = false;
    this.lines.delete(key);
  }
}
