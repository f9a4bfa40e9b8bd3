// Bus over NATS core request/reply and publish/subscribe.
import { connect, ErrorCode as NatsErrorCode, NatsError, type NatsConnection } from 'nats';
import { deadlineExceeded, unavailable } from '../protocol/errors.js';
import type { Bus, MessageHandler, RequestHandler, Subscription } from './bus.js';

export class NatsBus implements Bus {
  readonly kind = 'nats';

  private constructor(private readonly nc: NatsConnection) {}

  static async connect(url: string, name: string): Promise<NatsBus> {
    // noAsyncTraces: nats.js otherwise creates an Error (a stack capture) for every request, a tenth of
    // the CPU of a busy node; failures are turned into typed errors below and need no client stack.
    const nc = await connect({ servers: url.split(','), name, maxReconnectAttempts: -1, reconnectTimeWait: 500, noAsyncTraces: true });
    return new NatsBus(nc);
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    try {
      const reply = await this.nc.request(subject, data, { timeout: Math.max(1, Math.floor(timeoutMs)) });
      return reply.data;
    } catch (error) {
      if (error instanceof NatsError && error.code === NatsErrorCode.Timeout) {
        throw deadlineExceeded(`no reply on ${subject} within ${timeoutMs} ms`);
      }
      if (error instanceof NatsError && error.code === NatsErrorCode.NoResponders) {
        throw unavailable(`no node serves ${subject}`);
      }
      throw unavailable(`bus request failed: ${(error as Error).message}`);
    }
  }

  async serve(subject: string, handler: RequestHandler): Promise<Subscription> {
    // A queue group: when several nodes serve a subject, each request goes to one of them, never to
    // all (which would run it once per node and race their replies).
    const sub = this.nc.subscribe(subject, {
      queue: subject,
      callback: (error, msg) => {
        if (error) return;
        // Requests are handled concurrently; ordering per actor is the actor runtime's job.
        handler(msg.data).then((reply) => msg.respond(reply), () => undefined);
      },
    });
    return { unsubscribe: async () => sub.unsubscribe() };
  }

  publish(subject: string, data: Uint8Array): void {
    this.nc.publish(subject, data);
  }

  async subscribe(subject: string, handler: MessageHandler): Promise<Subscription> {
    const sub = this.nc.subscribe(subject, {
      callback: (error, msg) => {
        if (!error) handler(msg.data, msg.subject);
      },
    });
    return { unsubscribe: async () => sub.unsubscribe() };
  }

  async ping(): Promise<number> {
    return this.nc.rtt();
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain();
  }
}
