// Privacy Pass costs on a real node (NATS + PostgreSQL): server CPU per issued token (batches of 100,
// requests blinded beforehand so client work is outside the measurement; next to it the CPU of the
// blind signature alone, the machine's floor for that figure), CPU per redemption at the
// gate (parse, RSA verify, batched nonce insert), and gateway throughput to a trivial method with and
// without the token check, measured in the same run with the same load generator.
import { randomBytes } from 'node:crypto';
import { methodsOf, statelessKind, type ModuleFactory, type GateRequest, type Stateless } from '../actors/runtime/actor-kind.js';
import { createAasModule } from '../actors/aas/module.js';
import { createAsModule } from '../actors/as/module.js';
import { IssuerKeyCache } from '../actors/aas/issuer-cache.js';
import { privacyPassGate } from '../actors/aas/gate.js';
import { SpentTokens } from '../actors/aas/spent-tokens.js';
import { OperatorKey } from '../actors/runtime/operator-key.js';
import { openDatabase } from '../cluster/persistence/database.js';
import { hs } from '../schemas/index.js';
import { signRequest } from '../protocol/as/client-auth.js';
import { TokenBlinder } from '../protocol/aas/blind.js';
import { authorizationHeader, BlindSigner, generateIssuerKey } from '../protocol/aas/token.js';
import { sha256 } from '../protocol/crypto/index.js';
import { AasClient } from '../client/aas.js';
import { AsClient } from '../client/as.js';
import { HomeserverHttp } from '../client/http.js';
import { createTestEnvironment, startTestNode } from '../test/helpers/node.js';
import { timed } from './concurrency.js';
import { profiled } from './profile.js';

const ISSUE_BATCHES = 20;
// Unmeasured batches first: the key cache fills, and the JIT's background compilation (which counts
// as process CPU) settles.
const ISSUE_WARM_UP_BATCHES = 5;
const BATCH = 100;
const REDEMPTIONS = 2000;
// Throughput is measured after a warm-up long enough for the JIT and the heap to settle (with 200
// requests the first rounds ran 2-3x slower than the rest and decided the figure), over sixteen rounds
// of 1,000 requests of each kind. (With eight, the machine's drift between rounds spread the ratio
// from 0.80 to 1.03 over thirteen runs on one machine; with sixteen, 0.81-0.88 over seven.)
const WARM_UP_REQUESTS = 2000;
const LOAD_REQUESTS = 16000;
const ROUNDS = 16;
const CONCURRENCY = 64;

/** Two methods that do nothing, one public and one behind the gate: the difference is the gate. */
const method = methodsOf<Stateless>();
const echoKind = statelessKind('bench-echo', {
  Open: method({ access: 'public', request: hs.as.GetAsCredentialsRequest, response: hs.as.Empty, keyOf: () => 'echo', handle: () => ({ reply: {} }) }),
  Gated: method({ request: hs.as.GetAsCredentialsRequest, response: hs.as.Empty, keyOf: () => 'echo', handle: () => ({ reply: {} }) }),
});
const echoModule: ModuleFactory = () => ({ name: 'bench', kinds: [echoKind] });

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

async function load(url: string, route: string, headers: () => Record<string, string>, count: number): Promise<number> {
  let failures = 0;
  const seconds = await timed(count, CONCURRENCY, async () => {
    const response = await fetch(`${url}/v1/${route}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers() }, body: new Uint8Array() });
    await response.arrayBuffer();
    if (!response.ok) failures++;
  });
  if (failures > 0) throw new Error(`${failures} of ${count} ${route} requests failed`);
  return count / seconds;
}

export default async function run(): Promise<Record<string, number>> {
  const operatorKeyBase64 = randomBytes(32).toString('base64');
  const environment = await createTestEnvironment('nats-postgres', { HS_OPERATOR_KEY: operatorKeyBase64, AAS_TOKEN_ALLOWANCE: '1000000', AAS_MAX_BATCH: String(BATCH), ...(process.env.AAS_REDEEM_BATCH_MS ? { AAS_REDEEM_BATCH_MS: process.env.AAS_REDEEM_BATCH_MS } : {}) });
  const node = await startTestNode(environment, [createAsModule(), createAasModule(), echoModule]);
  const orm = await openDatabase({ kind: 'postgresql', url: environment.env.DATABASE_URL! });
  try {
    const http = new HomeserverHttp(node.url);
    const aas = new AasClient(http);
    const identity = await new AsClient(http).register(`bench@${environment.domain}`);
    const keys = await aas.issuerKeys();
    const blinder = new TokenBlinder(keys.keys[0]!.tokenKey!);
    const digest = sha256(keys.challenge);

    // Issuance: blind every batch first, then measure only the server's handling of the requests.
    const batches = Array.from({ length: ISSUE_WARM_UP_BATCHES + ISSUE_BATCHES }, () => blinder.blindMany(digest, BATCH));
    const tokens: Uint8Array[] = [];
    let issueCpu = 0;
    // BENCH_PROFILE=<prefix> also profiles the measured issuance batches (<prefix>-issue.cpuprofile) and
    // the redemptions (<prefix>-redeem.cpuprofile).
    await profiled(process.env.BENCH_PROFILE && `${process.env.BENCH_PROFILE}-issue.cpuprofile`, async () => {
    for (const [index, batch] of batches.entries()) {
      const payload = hs.aas.IssueTokensPayload.encode({ tokenKeyId: blinder.tokenKeyId, tokenRequests: batch.map((entry) => entry.request) }).finish();
      const request = signRequest({ userName: identity.userName, clientUuid: identity.clientUuid, privateKey: identity.signingKey.privateKey }, 'aas/IssueTokens', payload, Date.now());
      const before = process.cpuUsage();
      const reply = await http.call('aas', 'IssueTokens', hs.as.SignedRequest, hs.aas.IssueTokensReply, { request });
      if (index >= ISSUE_WARM_UP_BATCHES) issueCpu += cpuMs(before);
      reply.tokenResponses.forEach((response, i) => tokens.push(blinder.finalize(batch[i]!.pending, response)));
    }
    });
    // Right after issuance, so both see the machine at the same speed.
    const issueFloorMs = blindSignatureMs();
    // More tokens for the redemption and load runs (not measured).
    while (tokens.length < REDEMPTIONS + WARM_UP_REQUESTS + LOAD_REQUESTS * (process.env.BENCH_PROFILE ? 2 : 1) + 500) tokens.push(...(await aas.issueTokens(identity, BATCH)).tokens);

    // Redemption: the gate itself, as the node builds it, fed 100 at a time.
    const gate = privacyPassGate({
      domain: environment.domain,
      keys: new IssuerKeyCache(orm, node.node.actors, new OperatorKey(new Uint8Array(Buffer.from(operatorKeyBase64, 'base64'))), Date.now),
      spent: new SpentTokens(orm, 0),
    });
    const asRequest = (token: Uint8Array): GateRequest => {
      const header = authorizationHeader(token);
      return { module: 'bench', method: 'Gated', header: (name) => (name === 'authorization' ? header : undefined) };
    };
    await gate(asRequest(tokens.pop()!)); // warm-up: loads the keys
    const redeemable = tokens.splice(0, REDEMPTIONS).map(asRequest);
    const redeemStart = process.cpuUsage();
    await profiled(process.env.BENCH_PROFILE && `${process.env.BENCH_PROFILE}-redeem.cpuprofile`, async () => {
      for (let i = 0; i < redeemable.length; i += 100) await Promise.all(redeemable.slice(i, i + 100).map((request) => gate(request)));
    });
    const redeemCpu = cpuMs(redeemStart);
    if (process.env.BENCH_VERBOSE) {
      const single = tokens.splice(0, 200).map(asRequest);
      const singleStart = process.cpuUsage();
      for (const request of single) await gate(request);
      console.error({ redeemOneAtATimeMs: cpuMs(singleStart) / single.length });
    }

    // Throughput in short alternating rounds (ABBA order), so load from elsewhere on the machine hits
    // both kinds of request alike; each figure is requests over the time spent on that kind.
    const header = () => ({ authorization: authorizationHeader(tokens.pop()!) });
    await load(node.url, 'bench/Open', () => ({}), WARM_UP_REQUESTS);
    await load(node.url, 'bench/Gated', header, WARM_UP_REQUESTS);
    const seconds = { ungated: 0, gated: 0 };
    const perRound = LOAD_REQUESTS / ROUNDS;
    const cpu = { ungated: 0, gated: 0 };
    const rounds: string[] = [];
    const timed = async (kind: 'ungated' | 'gated') => {
      const before = process.cpuUsage();
      const loopBefore = performance.eventLoopUtilization();
      const rps = kind === 'ungated' ? await load(node.url, 'bench/Open', () => ({}), perRound) : await load(node.url, 'bench/Gated', header, perRound);
      seconds[kind] += perRound / rps;
      cpu[kind] += cpuMs(before);
      rounds.push(`${kind} ${Math.round((1000 * perRound) / rps)} ms, main thread busy ${performance.eventLoopUtilization(loopBefore).utilization.toFixed(2)}`);
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['ungated', 'gated'] as const) : (['gated', 'ungated'] as const);
      for (const kind of order) await timed(kind);
    }
    if (process.env.BENCH_VERBOSE) console.error({ seconds, cpuMsPerRequest: { ungated: cpu.ungated / LOAD_REQUESTS, gated: cpu.gated / LOAD_REQUESTS }, rounds: rounds.join(', ') });
    // BENCH_PROFILE=<prefix>: after the measured rounds, one more run of each kind under the CPU
    // profiler (not measured), written to <prefix>-ungated.cpuprofile and <prefix>-gated.cpuprofile.
    if (process.env.BENCH_PROFILE) {
      await profiled(`${process.env.BENCH_PROFILE}-ungated.cpuprofile`, () => load(node.url, 'bench/Open', () => ({}), LOAD_REQUESTS));
      await profiled(`${process.env.BENCH_PROFILE}-gated.cpuprofile`, () => load(node.url, 'bench/Gated', header, LOAD_REQUESTS));
    }
    const gated = LOAD_REQUESTS / seconds.gated;
    const ungated = LOAD_REQUESTS / seconds.ungated;
    return {
      issue_ms_per_token: round3(issueCpu / (ISSUE_BATCHES * BATCH)),
      issue_floor_ms_per_token: round3(issueFloorMs),
      redeem_ms_per_token: round3(redeemCpu / REDEMPTIONS),
      gated_rps: Math.round(gated),
      ungated_rps: Math.round(ungated),
    };
  } finally {
    await orm.close();
    await node.node.stop();
    await environment.cleanup();
  }
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;

/** The hardware floor of issuance, measured in the same run: CPU per blind signature alone (the raw
 *  RSA private operation and its self-check) on a fresh key, without request handling around it. */
function blindSignatureMs(): number {
  const key = generateIssuerKey();
  const signer = new BlindSigner(key.privateKeyDer, key.tokenKeyId);
  const requests = new TokenBlinder(key.tokenKey).blindMany(sha256(randomBytes(32)), 300).map((entry) => entry.request);
  for (const request of requests.slice(0, 20)) signer.sign(request);
  const before = process.cpuUsage();
  for (const request of requests.slice(20)) signer.sign(request);
  return cpuMs(before) / (requests.length - 20);
}
