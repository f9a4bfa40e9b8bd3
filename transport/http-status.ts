// One HTTP status per error code, so clients can act on the status alone.
import { ErrorCode } from '../protocol/errors.js';

const statusByCode = new Map<ErrorCode, number>([
  [ErrorCode.BAD_REQUEST, 400],
  [ErrorCode.UNAUTHENTICATED, 401],
  [ErrorCode.PERMISSION_DENIED, 403],
  [ErrorCode.NOT_FOUND, 404],
  [ErrorCode.CONFLICT, 409],
  [ErrorCode.PRECONDITION_FAILED, 412],
  [ErrorCode.PAYLOAD_TOO_LARGE, 413],
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415],
  [ErrorCode.RATE_LIMITED, 429],
  [ErrorCode.INTERNAL, 500],
  [ErrorCode.UNAVAILABLE, 503],
  [ErrorCode.DEADLINE_EXCEEDED, 504],
]);

export function httpStatusOf(code: ErrorCode): number {
  return statusByCode.get(code) ?? 500;
}

/** The code for an HTTP status produced outside our handlers (by the HTTP framework itself). */
export function errorCodeOfStatus(status: number): ErrorCode {
  for (const [code, candidate] of statusByCode) if (candidate === status) return code;
  return status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST;
}
