// Reading one's own queue: dequeue in order and decrypt through the queue ratchet (initial key and key
// updates included), and listen live over the gateway's WebSocket.
import WebSocket from 'ws';
import { hs } from '../schemas/index.js';
import { HsError, unavailable } from '../protocol/errors.js';
import { errorCodeOfStatus } from '../transport/http-status.js';
import { signRequest } from '../protocol/qs/auth-token.js';
import { QueueReader } from '../protocol/qs/ratchet.js';
import type { HpkeKeyPair } from '../protocol/crypto/index.js';
import type { ClientRecordOwner, QsClient } from './qs.js';

export interface ReceivedMessage {
  sequenceNumber: number;
  payload: Uint8Array;
}

export class QueueReceiver {
  readonly reader: QueueReader;

  /** `reader` continues an earlier receiver's ratchet position (e.g. over a new connection). */
  constructor(private readonly qs: QsClient, private readonly owner: ClientRecordOwner, queueKeyPair: HpkeKeyPair, reader?: QueueReader) {
    this.reader = reader ?? new QueueReader(owner.pcid, queueKeyPair);
  }

  /** Dequeues up to `max` entries from where this receiver stopped (which deletes the ones before)
   *  and returns the decrypted messages among them; `remaining` says how many are still queued. */
  async receive(max = 1000): Promise<{ messages: ReceivedMessage[]; remaining: number }> {
    const reply = await this.qs.dequeue(this.owner, this.reader.nextSequenceNumber, max);
    const messages: ReceivedMessage[] = [];
    for (const message of reply.messages) {
      const payload = await this.reader.read(message);
      if (payload) messages.push({ sequenceNumber: Number(message.sequenceNumber), payload });
    }
    return { messages, remaining: reply.remaining };
  }

  /** Receives until the queue is empty. */
  async receiveAll(batch = 1000): Promise<ReceivedMessage[]> {
    const all: ReceivedMessage[] = [];
    for (;;) {
      const { messages, remaining } = await this.receive(batch);
      all.push(...messages);
      if (remaining === 0) return all;
    }
  }
}

export interface QueueListener {
  close(): void;
  /** Settles when the socket closes. */
  readonly closed: Promise<void>;
}

/** Opens /v1/stream/qs-listen as the queue's owner; `onMessage` gets every message stored from then
 *  on (still encrypted: feed them to a QueueReader in order, or dequeue). Rejects with the typed error
 *  the server closed with. */
export function listenToQueue(baseUrl: string, owner: ClientRecordOwner, onMessage: (message: hs.qs.QueueMessage) => void): Promise<QueueListener> {
  const url = new URL('/v1/stream/qs-listen', baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      const request = signRequest({ kind: 'pcid', id: owner.pcid }, owner.signingKey, 'Listen', hs.qs.ListenParams.encode({}).finish());
      socket.send(hs.qs.SignedRequest.encode(request).finish());
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        resolve({ close: () => socket.close(), closed });
        return;
      }
      onMessage(hs.qs.QueueMessage.decode(new Uint8Array(data)));
    });
    socket.once('close', (code: number, reason: Buffer) => reject(closeError(code, reason.toString('utf8'))));
    socket.once('error', (error) => reject(unavailable(`queue listener failed: ${error.message}`)));
  });
}

/** The server closes a refused stream with 4000 + the error's HTTP status. */
function closeError(code: number, reason: string): HsError {
  if (code >= 4100 && code < 4600) return new HsError(errorCodeOfStatus(code - 4000), reason);
  return unavailable(`queue listener closed (${code}${reason ? `: ${reason}` : ''})`);
}
