// The floor of the Queuing Service's shape on this machine: what bench/qs would measure if nothing
// stood between the load and the database but the shape itself. One nact actor per queue, one turn
// per message, rows of many actors committed together (one transaction at a time per thread, multi-row
// prepared inserts into qs_message), BENCH_QS_THREADS threads each with its own queues, load and
// connection; no fan-out, routing, protobuf, runtime, coalescing or notification. Measured twice:
// without crypto, and with what every message must cost (the queue ratchet's seal, and a sealed
// queue head every 64 messages). The same load shape as bench/qs, and its raw-insert ceiling.
// bench/qs's enqueue_cpu_us_per_message against with_crypto.cpu_us_per_message is what the
// implementation adds to the shape.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { dispatch, spawn, start, type Ref } from 'nact';
import { encodeMessage, hs } from '../schemas/index.js';
import { newRatchetKey, sealMessage } from '../protocol/qs/ratchet.js';
import { OperatorKey } from '../actors/runtime/operator-key.js';
import { numberPlaceholders, pgConnections, type PgClient } from '../actors/runtime/sql-session.js';
import { openDatabase } from '../cluster/persistence/database.js';
import { youngGenerationMb } from '../cluster/shard-threads.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { timed } from './concurrency.js';
import { FANOUT, IN_FLIGHT, MESSAGES, PAYLOAD_BYTES, QUEUES, rawInserts } from './qs.js';

/** One thread per core (BENCH_QS_THREADS to compare), as the shape has been measured since session 5. */
const THREADS = Number(process.env.BENCH_QS_THREADS ?? availableParallelism());

interface ThreadData {
  floorEntry: true;
  url: string;
  thread: number;
  crypto: boolean;
}

const HEAD_INTERVAL = 64;

const insertTexts = new Map<number, string>();
const insertText = (rows: number): string => {
  let text = insertTexts.get(rows);
  if (!text) insertTexts.set(rows, (text = numberPlaceholders(`insert into qs_message (queue, seq, data) values ${Array(rows).fill('(?, ?, ?)').join(', ')}`)));
  return text;
};

/** Rows of many queues, committed together: what arrives during a transaction goes in the next. */
class GroupCommit {
  private waiting: { queue: string; seq: number; data: Uint8Array; done: () => void }[] = [];
  private busy = false;

  constructor(private readonly pg: PgClient) {}

  write(queue: string, seq: number, data: Uint8Array): Promise<void> {
    return new Promise((done) => {
      this.waiting.push({ queue, seq, data, done });
      if (!this.busy) {
        this.busy = true;
        setImmediate(() => void this.commit());
      }
    });
  }

  private async commit(): Promise<void> {
    while (this.waiting.length > 0) {
      const rows = this.waiting;
      this.waiting = [];
      await this.pg.query({ text: 'begin' });
      for (let at = 0; at < rows.length;) {
        let size = 1024;
        while (size > rows.length - at) size /= 4;
        const values: unknown[] = [];
        for (const row of rows.slice(at, at + size)) values.push(row.queue, row.seq, row.data);
        await this.pg.query({ name: `qs-floor-${size}`, text: insertText(size), values });
        at += size;
      }
      await this.pg.query({ text: 'commit' });
      for (const row of rows) row.done();
    }
    this.busy = false;
  }
}

/** One thread's queues and load; reports 'ready' after a warm-up, runs on 'go', reports 'done'. */
async function floorThread({ url, thread, crypto }: ThreadData): Promise<void> {
  const orm = await openDatabase({ kind: 'postgresql', url });
  await pgConnections(orm)!(async (pg) => {
    const commits = new GroupCommit(pg);
    const operatorKey = new OperatorKey(randomBytes(32));
    const payload = randomBytes(PAYLOAD_BYTES);
    type Queue = { seq: number; key: Uint8Array };
    type Mail = { done: () => void };
    const system = start();
    const queues: Ref<Mail>[] = Array.from({ length: QUEUES / THREADS }, (_, i) => {
      const name = `floor-${crypto ? 'c' : 'p'}${thread}-${i}`;
      const id = Buffer.from(name);
      return spawn(system, (queue: Queue, mail: Mail): Queue => {
        let data: Uint8Array = payload;
        let key = queue.key;
        if (crypto) {
          const sealed = sealMessage(key, id, queue.seq, payload);
          data = encodeMessage(hs.qs.QueueMessage, sealed);
          if (queue.seq % HEAD_INTERVAL === 0) operatorKey.sealFrequent('qs-queue-head', key);
        }
        void commits.write(name, queue.seq, data).then(mail.done);
        return { seq: queue.seq + 1, key };
      }, name, { initialState: { seq: 0, key: newRatchetKey() } });
    });
    const fanOut = (i: number) => Promise.all(Array.from({ length: FANOUT }, (_, j) =>
      new Promise<void>((done) => dispatch(queues[(i * FANOUT + j) % queues.length]!, { done }))));
    const inFlight = Math.max(1, Math.round(IN_FLIGHT / THREADS));
    await timed(2000 / THREADS, inFlight, fanOut);
    parentPort!.postMessage('ready');
    await new Promise((resolve) => parentPort!.once('message', resolve));
    await timed(Math.ceil(MESSAGES / FANOUT / THREADS), inFlight, fanOut);
  });
  await orm.close();
  parentPort!.postMessage('done');
}

/** Runs every thread at once; the figures are over the measured phase (all threads' CPU). */
async function floor(url: string, crypto: boolean): Promise<{ enqueue_per_s: number; cpu_us_per_message: number }> {
  const young = youngGenerationMb();
  const threads = Array.from({ length: THREADS }, (_, thread) => new Worker(new URL('../cluster/typescript-thread.mjs', import.meta.url), {
    workerData: { entry: import.meta.url, floorEntry: true, url, thread, crypto } satisfies ThreadData & { entry: string },
    ...(young ? { resourceLimits: { maxYoungGenerationSizeMb: young } } : {}),
  }));
  const next = (worker: Worker) => new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  try {
    await Promise.all(threads.map(next));
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const done = threads.map(next);
    for (const worker of threads) worker.postMessage('go');
    await Promise.all(done);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const messages = Math.ceil(MESSAGES / FANOUT / THREADS) * FANOUT * THREADS;
    return { enqueue_per_s: Math.round(messages / seconds), cpu_us_per_message: Math.round((cpu.user + cpu.system) / messages) };
  } finally {
    await Promise.all(threads.map((worker) => worker.terminate()));
  }
}

export default async function qsFloorBench(): Promise<Record<string, unknown>> {
  const database = await createTestDatabase();
  try {
    await (await openDatabase({ kind: 'postgresql', url: database.url })).close();
    const withoutCrypto = await floor(database.url, false);
    const withCrypto = await floor(database.url, true);
    const pgInsertPerS = (await rawInserts(database.url, PAYLOAD_BYTES)).perSecond;
    return {
      without_crypto: withoutCrypto,
      with_crypto: withCrypto,
      pg_insert_per_s: pgInsertPerS,
      ratio_with_crypto: Math.round((100 * withCrypto.enqueue_per_s) / pgInsertPerS) / 100,
      threads: THREADS,
      messages: MESSAGES,
    };
  } finally {
    await database.drop();
  }
}

if (!isMainThread && (workerData as Partial<ThreadData> | undefined)?.floorEntry) await floorThread(workerData as ThreadData);
