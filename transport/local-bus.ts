// Bus inside one process, for the embedded single-node mode. Same semantics as NatsBus: exact and
// wildcard subjects, no responders is UNAVAILABLE, a missing reply is DEADLINE_EXCEEDED.
import { deadlineExceeded, unavailable } from '../protocol/errors.js';
import type { Bus, MessageHandler, RequestHandler, Subscription } from './bus.js';

/** NATS subject matching: `*` matches one token, a final `>` one or more. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

export class LocalBus implements Bus {
  readonly kind = 'in-process';
  private readonly servers = new Map<string, RequestHandler>();
  private readonly listeners = new Set<{ pattern: string; handler: MessageHandler }>();
  private closed = false;

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const handler = this.servers.get(subject);
    if (!handler || this.closed) throw unavailable(`no node serves ${subject}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(deadlineExceeded(`no reply on ${subject} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      // Copy so neither side can mutate the other's buffer, as with a real transport.
      return await Promise.race([handler(Uint8Array.from(data)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async serve(subject: string, handler: RequestHandler): Promise<Subscription> {
    if (this.servers.has(subject)) throw new Error(`${subject} is already served in this process`);
    this.servers.set(subject, handler);
    return { unsubscribe: async () => void this.servers.delete(subject) };
  }

  publish(subject: string, data: Uint8Array): void {
    if (this.closed) return;
    for (const listener of this.listeners) {
      if (subjectMatches(listener.pattern, subject)) {
        const copy = Uint8Array.from(data);
        queueMicrotask(() => listener.handler(copy, subject));
      }
    }
  }

  async subscribe(pattern: string, handler: MessageHandler): Promise<Subscription> {
    const listener = { pattern, handler };
    this.listeners.add(listener);
    return { unsubscribe: async () => void this.listeners.delete(listener) };
  }

  async ping(): Promise<number> {
    if (this.closed) throw unavailable('bus is closed');
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.servers.clear();
    this.listeners.clear();
  }
}
