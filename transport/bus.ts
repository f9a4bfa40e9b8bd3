// The one messaging interface the server is written against. Two implementations: NATS (a cluster)
// and in-process (the embedded single-node mode). Payloads are opaque bytes; envelopes live above.

export type RequestHandler = (data: Uint8Array) => Promise<Uint8Array>;
export type MessageHandler = (data: Uint8Array, subject: string) => void;

export interface Subscription {
  unsubscribe(): Promise<void>;
}

export interface Bus {
  /** Human-readable kind for logs and health ("nats" or "in-process"). */
  readonly kind: string;
  /** Sends a request and waits for its reply; rejects with HsError DEADLINE_EXCEEDED or UNAVAILABLE. */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Answers requests on a subject. A handler that throws gets no reply (the caller times out), so
   *  handlers must turn failures into error replies themselves. */
  serve(subject: string, handler: RequestHandler): Promise<Subscription>;
  publish(subject: string, data: Uint8Array): void;
  /** Subscribes to a subject; NATS wildcards (`*`, `>`) are honoured by both implementations. */
  subscribe(subject: string, handler: MessageHandler): Promise<Subscription>;
  /** Round trip to the transport, in milliseconds; rejects when it is unreachable. */
  ping(): Promise<number>;
  /** Waits for published messages to leave, then closes. */
  close(): Promise<void>;
}
