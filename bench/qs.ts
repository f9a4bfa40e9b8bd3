// Queuing Service figures on NATS + PostgreSQL:
// - enqueue_per_s: persisted, acknowledged enqueues per second into 1,000 queues, as the DS sends
//   them (local enqueue over the bus), 200 fan-out requests in flight, each to a group of
//   BENCH_QS_FANOUT queues (default 10); every queue message counts once.
// - dequeue_per_s: messages dequeued per second through the gateway with the SDK, in batches of up to
//   500, decrypted through the ratchet by the client.
// - pg_insert_per_s: raw multi-row inserts of rows of the same size into a fresh copy of the same
//   table, in transactions of 2,000 rows, prepared and with bound parameters, measured in the same run (the
//   ceiling the enqueue path is held to); pg_packed_insert_per_s: the same rows as one statement of
//   arrays per 2,000, the way the snapshot store writes them (a higher ceiling).
// enqueue_per_s, pg_insert_per_s and ratio are medians over BENCH_QS_ROUNDS rounds (default 5), each
// an enqueue phase of BENCH_QS_MESSAGES messages right after its own pg_insert_per_s; `rounds` lists
// them all.
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { generateHpkeKeyPair, generateSigningKeyPair, randomBytes } from '../protocol/crypto/index.js';
import { sealQueueConfig } from '../protocol/qs/queue-config.js';
import { localEnqueue } from '../actors/qs/fanout.js';
import { qsModule } from '../actors/qs/module.js';
import { HomeserverHttp } from '../client/http.js';
import { QsClient, type ClientRecordOwner } from '../client/qs.js';
import { QueueReceiver } from '../client/qs-queue.js';
import type { hs } from '../schemas/index.js';
import { openDatabase } from '../cluster/persistence/database.js';
import { numberPlaceholders, pgConnections, type PgClient } from '../actors/runtime/sql-session.js';
import { packedInsert } from '../actors/runtime/packed-insert.js';
import type { RowInsert } from '../actors/runtime/actor-kind.js';
import { DEFAULT_PG_LANES } from '../actors/runtime/snapshot-store.js';
import { createTestEnvironment, startTestNode } from '../test/helpers/node.js';
import { timed } from './concurrency.js';
import { profiled } from './profile.js';
import { mainThreadCpuMicros, startCpuReading, type CpuPerUnit } from './thread-cpu.js';

// The load shape, shared with bench/qs-floor.ts.
export const QUEUES = 1000;
export const IN_FLIGHT = 200;
export const FANOUT = Number(process.env.BENCH_QS_FANOUT ?? 10);
/** Messages per round; ROUNDS rounds, each after its own raw-insert ceiling. */
export const MESSAGES = Number(process.env.BENCH_QS_MESSAGES ?? 100_000);
export const ROUNDS = Number(process.env.BENCH_QS_ROUNDS ?? 5);
export const PAYLOAD_BYTES = 256;
// As the node runs by default: one thread (BENCH_QS_THREADS to compare). The README has operators
// give a node one thread per core it has to itself; here PostgreSQL shares the two cores, and one
// thread with commit lanes measured above two (ratio 0.48-0.51 against 0.36-0.43, docs/qs.md).
export const THREADS = Number(process.env.BENCH_QS_THREADS ?? 1);
/** The node's commit lanes per thread (DB_COMMIT_LANES, passed through to compare). */
const COMMIT_LANES = process.env.DB_COMMIT_LANES ?? String(DEFAULT_PG_LANES);

export default async function qsBench(): Promise<Record<string, unknown>> {
  const environment = await createTestEnvironment('nats-postgres', {
    HS_OPERATOR_KEY: nodeRandomBytes(32).toString('base64'), REQUEST_TIMEOUT_MS: '60000', NODE_THREADS: String(THREADS),
    DB_COMMIT_LANES: COMMIT_LANES,
  });
  const { node, url } = await startTestNode(environment, [qsModule]);
  try {
    const qs = new QsClient(new HomeserverHttp(url));
    const { queueConfigEncryptionKey } = await qs.getPublicKeys();
    const queues: { receiver: QueueReceiver; config: hs.qs.IClientQueueConfig; owner: ClientRecordOwner }[] = [];
    await timed(QUEUES, 50, async () => {
      const signing = generateSigningKeyPair();
      const queueKeys = generateHpkeKeyPair();
      const created = await qs.createUserRecord({
        userRecordAuthKey: generateSigningKeyPair().publicKey, friendshipToken: randomBytes(32),
        clientRecordAuthKey: signing.publicKey, queueEncryptionKey: queueKeys.publicKey,
      });
      const owner = { pcid: created.pcid, signingKey: signing.privateKey };
      const config = await sealQueueConfig({ domain: environment.domain, qsPublicKey: queueConfigEncryptionKey, pcid: created.pcid, owner: queueKeys });
      queues.push({ receiver: new QueueReceiver(qs, owner, queueKeys), config, owner });
    });
    const payload = randomBytes(PAYLOAD_BYTES);
    const groupId = randomBytes(16);
    const group = (i: number) => Array.from({ length: FANOUT }, (_, j) => queues[(i * FANOUT + j) % QUEUES]!.config);
    const send = async (i: number) => {
      const reply = await localEnqueue(node.actors, { clientQueueConfigs: group(i), groupId, payload });
      if (reply.rejected.length + reply.queueDeleted.length > 0) throw new Error('bench enqueue was refused');
    };
    // Warm-up (not timed): every queue actor active, every config opened on every thread (each
    // thread keeps its own config cache and a fan-out lands on a random one: with 2 threads, 8 rounds
    // leave about 1 config in 250 unopened on one of them), and the hot path compiled by the JIT (a
    // single round of 1,000 messages left the first second of the timed phase running slower code).
    const warmUp = Math.ceil(QUEUES / FANOUT) * 8;
    await timed(warmUp, 10, send);

    // Rounds of (ceiling, enqueue phase) back to back: this machine's speed drifts by a quarter within
    // minutes, so each round's ratio compares two figures taken seconds apart, and the medians say
    // more than one sample (every round is printed too).
    const requests = Math.ceil(MESSAGES / FANOUT);
    const rounds: Round[] = [];
    let cpuMicros = 0;
    let mainCpuMicros = 0;
    const mainThreadMeasured = mainThreadCpuMicros() !== undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const ceiling = await rawInserts(environment.env.DATABASE_URL!, payload.length);
      const cpuBefore = process.cpuUsage();
      const mainBefore = mainThreadCpuMicros();
      const cpuReading = startCpuReading();
      const loopBefore = performance.eventLoopUtilization();
      // BENCH_PROFILE=x.cpuprofile, or x.heapprofile for where the enqueue phase allocates (the last round).
      const enqueueSeconds = await profiled(round === ROUNDS - 1 ? process.env.BENCH_PROFILE : undefined, () => timed(requests, IN_FLIGHT, send));
      const cpu = process.cpuUsage(cpuBefore);
      const mainAfter = mainThreadCpuMicros();
      const cpuPerMessage = cpuReading.perUnit(requests * FANOUT);
      const loop = performance.eventLoopUtilization(loopBefore);
      cpuMicros += cpu.user + cpu.system;
      mainCpuMicros += (mainAfter ?? 0) - (mainBefore ?? 0);
      const enqueuePerS = Math.round(requests * FANOUT / enqueueSeconds);
      rounds.push({
        enqueue_per_s: enqueuePerS, pg_insert_per_s: ceiling.perSecond, ratio: Math.round(enqueuePerS / ceiling.perSecond * 100) / 100,
        machine_us_per_message: cpuPerMessage.machine, machine_us_per_raw_row: ceiling.cpuPerRow.machine,
        postgres_us_per_message: cpuPerMessage.postgres, postgres_us_per_raw_row: ceiling.cpuPerRow.postgres,
        event_loop_utilization: Math.round(loop.utilization * 100) / 100,
      });
    }
    const enqueued = ROUNDS * requests * FANOUT;

    let dequeued = 0;
    let shortQueues = 0;
    const dequeueSeconds = await timed(QUEUES, 50, async (i) => {
      const got = (await queues[i]!.receiver.receiveAll(500)).length;
      dequeued += got;
      // A queue that came back short: say what the QS holds for it (a bug if this ever prints).
      if (got < enqueued / QUEUES && shortQueues++ < 3) {
        const owner = queues[i]!.owner;
        const record = await qs.getClientRecord(owner);
        const raw = await qs.dequeue(owner, 0, 500);
        console.error(`queue ${i}: got ${got}, next sequence number ${record.nextSequenceNumber}, raw dequeue ${raw.messages.length} (+${raw.remaining})`);
      }
    });

    const pgPackedInsert = await rawPackedInserts(environment.env.DATABASE_URL!, payload.length);
    return {
      // Medians over the rounds.
      enqueue_per_s: median(rounds.map((round) => round.enqueue_per_s)),
      // This process's CPU per message while enqueueing (all of the node's work; the database and NATS
      // servers are other processes): steadier than the rate when the machine is shared.
      enqueue_cpu_us_per_message: Math.round(cpuMicros / enqueued),
      // Of that, the first node thread's own (the gateway's and the load's thread; Linux only).
      enqueue_main_thread_cpu_us_per_message: mainThreadMeasured ? Math.round(mainCpuMicros / enqueued * 10) / 10 : undefined,
      dequeue_per_s: Math.round(dequeued / dequeueSeconds),
      pg_insert_per_s: median(rounds.map((round) => round.pg_insert_per_s)),
      // Every core's busy time (node, PostgreSQL, NATS, the kernel) per queue message and per raw row
      // (Linux only): the enqueue phase keeps the two cores 75-90% busy and the ceiling about half, so
      // these say which side of the ratio a run's drift moved.
      enqueue_machine_cpu_us_per_message: medianOf(rounds.map((round) => round.machine_us_per_message)),
      pg_insert_machine_cpu_us_per_row: medianOf(rounds.map((round) => round.machine_us_per_raw_row)),
      // Of that, PostgreSQL's own processes (server and backends on this machine): the enqueue path
      // commits smaller batches on several connections, which costs the database more per row than
      // the ceiling's one connection (docs/qs.md).
      enqueue_postgres_cpu_us_per_message: medianOf(rounds.map((round) => round.postgres_us_per_message)),
      pg_insert_postgres_cpu_us_per_row: medianOf(rounds.map((round) => round.postgres_us_per_raw_row)),
      // The share of the enqueue phase the node's first thread was busy rather than waiting for I/O:
      // near 1, the thread's CPU per message caps the rate; well below, the commits' latency does.
      enqueue_event_loop_utilization: median(rounds.map((round) => round.event_loop_utilization)),
      ratio: median(rounds.map((round) => round.ratio)),
      // The same rows the way the snapshot store now writes them (one statement of arrays per
      // transaction): a higher ceiling, printed so the ratio can be read against it too.
      pg_packed_insert_per_s: pgPackedInsert.perSecond,
      rounds,
      threads: THREADS,
      commit_lanes: Number(COMMIT_LANES),
      fanout: FANOUT,
      in_flight: IN_FLIGHT,
      queues: QUEUES,
      messages: enqueued,
      // Every acknowledged message (warm-up included) must come back: anything else is a bug.
      lost: warmUp * FANOUT + enqueued - dequeued,
    };
  } finally {
    await node.stop();
    await environment.cleanup();
  }
}

/** One round: its enqueue rate, the raw-insert ceiling measured just before it, their ratio, the
 *  machine's and PostgreSQL's CPU for each (undefined where /proc is not there), and how busy the
 *  node's first thread was while enqueueing. */
interface Round {
  enqueue_per_s: number;
  pg_insert_per_s: number;
  ratio: number;
  machine_us_per_message: number | undefined;
  machine_us_per_raw_row: number | undefined;
  postgres_us_per_message: number | undefined;
  postgres_us_per_raw_row: number | undefined;
  event_loop_utilization: number;
}

const medianOf = (values: (number | undefined)[]): number | undefined =>
  values.some((value) => value === undefined) ? undefined : median(values as number[]);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Rows per measurement and per transaction of the two raw-insert ceilings. */
const RAW_ROWS = 50_000;
const RAW_TRANSACTION_ROWS = 2000;
/** A fresh copy of qs_message (same columns, key and indexes) for each ceiling: the enqueue phase's
 *  inserts and the dequeue phase's deletes leave qs_message larger and full of dead rows, which would
 *  lower a ceiling measured in it after them (and flatter the ratio). */
const CEILING_TABLE = 'qs_message_ceiling';

/** A ceiling: rows per second, and the machine's and PostgreSQL's CPU per row while inserting them. */
interface Ceiling {
  perSecond: number;
  cpuPerRow: CpuPerUnit;
}

/** Inserts RAW_ROWS queue-message-sized rows into a fresh CEILING_TABLE, `transaction` writing each
 *  RAW_TRANSACTION_ROWS of them (from sequence number `first`) on one pg connection. */
async function insertRate(databaseUrl: string, payloadBytes: number,
  transaction: (client: PgClient, first: number, data: Buffer) => Promise<void>): Promise<Ceiling> {
  const orm = await openDatabase({ kind: 'postgresql', url: databaseUrl });
  const data = Buffer.from(randomBytes(payloadBytes + 16));
  try {
    return await pgConnections(orm)!(async (client) => {
      await client.query({ text: `create table ${CEILING_TABLE} (like qs_message including all)` });
      try {
        const started = performance.now();
        const cpuReading = startCpuReading();
        for (let done = 0; done < RAW_ROWS; done += RAW_TRANSACTION_ROWS) await transaction(client, done, data);
        return {
          perSecond: Math.round(RAW_ROWS / ((performance.now() - started) / 1000)),
          cpuPerRow: cpuReading.perUnit(RAW_ROWS),
        };
      } finally {
        await client.query({ text: `drop table ${CEILING_TABLE}` });
      }
    });
  } finally {
    await orm.close();
  }
}

/**
 * Multi-row inserts of queue-message-sized rows, 400 per statement, 2,000 per transaction, the fastest
 * plain way this machine has: a pg connection, bound parameters, one prepared statement. (Until
 * session 3 of 2026-11-26 this went through MikroORM's execute, which inlines the parameters into the
 * SQL text: 25,000-35,000 rows/s where this path does 45,000-80,000, so ratios against the old figure
 * looked about twice as good as they were.)
 */
export function rawInserts(databaseUrl: string, payloadBytes: number): Promise<Ceiling> {
  const text = numberPlaceholders(`insert into ${CEILING_TABLE} (queue, seq, data) values ${Array(400).fill('(?, ?, ?)').join(', ')}`);
  return insertRate(databaseUrl, payloadBytes, async (client, first, data) => {
    await client.query({ text: 'begin' });
    for (let i = 0; i < RAW_TRANSACTION_ROWS; i += 400) {
      const values = Array.from({ length: 400 }, (_, j) => ['bench-raw-insert-queue', first + i + j, data]).flat();
      await client.query({ name: 'bench-raw-insert-400', text, values });
    }
    await client.query({ text: 'commit' });
  });
}

/** The same rows, each transaction one statement of arrays (actors/runtime/packed-insert.ts) run on
 *  its own, as the snapshot store commits journal writes. */
function rawPackedInserts(databaseUrl: string, payloadBytes: number): Promise<Ceiling> {
  return insertRate(databaseUrl, payloadBytes, async (client, first, data) => {
    const rows = Array.from({ length: RAW_TRANSACTION_ROWS }, (_, i): RowInsert => ({ insertInto: CEILING_TABLE, values: { queue: 'bench-packed-insert-queue', seq: first + i, data } }));
    const statement = packedInsert(rows, 0, rows.length, ['queue', 'seq', 'data'])!;
    await client.query({ name: 'bench-packed-insert', text: statement.sql, values: statement.params });
  });
}
