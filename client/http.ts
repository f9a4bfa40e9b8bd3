// The SDK's transport: calls `POST /v1/<module>/<Method>` with protobuf bodies and turns error
// replies back into HsError, so an app sees the same typed errors as the server raised.
import { hs } from '../schemas/index.js';
import { ErrorCode, HsError, unavailable } from '../protocol/errors.js';

export interface Encoder<T> {
  encode(message: T): { finish(): Uint8Array };
}
export interface Decoder<T> {
  decode(bytes: Uint8Array): T;
}

export interface HttpOptions {
  /** Extra headers for every request (e.g. a Privacy Pass token, added per call by higher layers). */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export class HomeserverHttp {
  constructor(readonly baseUrl: string, private readonly options: HttpOptions = {}) {}

  async call<Request, Reply>(
    module: string, method: string, requestType: Encoder<Request>, replyType: Decoder<Reply>, request: Request,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const body = requestType.encode(request).finish();
    const bytes = await this.post(`/v1/${module}/${method}`, body, headers);
    return replyType.decode(bytes);
  }

  /** Posts raw protobuf bytes; resolves with the reply's bytes or rejects with HsError. */
  async post(path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Uint8Array> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...this.options.headers, ...headers },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw unavailable(`homeserver unreachable: ${(error as Error).message}`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (response.ok) return bytes;
    throw errorFromResponse(response, bytes);
  }
}

function errorFromResponse(response: Response, bytes: Uint8Array): HsError {
  if ((response.headers.get('content-type') ?? '').startsWith('application/x-protobuf')) {
    try {
      return HsError.fromWire(hs.common.Error.decode(bytes));
    } catch {
      // fall through: not one of our error bodies
    }
  }
  return new HsError(ErrorCode.UNAVAILABLE, `unexpected HTTP ${response.status} from homeserver`);
}
