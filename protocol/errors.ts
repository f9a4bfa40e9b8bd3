// The typed error every module throws and every caller receives. Codes are the wire enum from
// schemas/common.proto so an error crosses the bus and the gateway unchanged.
import { hs } from '../schemas/index.js';

export const ErrorCode = hs.common.ErrorCode;
export type ErrorCode = hs.common.ErrorCode;

export class HsError extends Error {
  override readonly name = 'HsError';

  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }

  /** The code's wire name, e.g. BAD_REQUEST. */
  get codeName(): string {
    return ErrorCode[this.code] ?? 'ERROR_CODE_UNSPECIFIED';
  }

  toWire(): hs.common.IError {
    return { code: this.code, message: this.message };
  }

  static fromWire(error: hs.common.IError): HsError {
    return new HsError(error.code ?? ErrorCode.ERROR_CODE_UNSPECIFIED, error.message ?? '');
  }
}

export const badRequest = (message: string): HsError => new HsError(ErrorCode.BAD_REQUEST, message);
export const notFound = (message: string): HsError => new HsError(ErrorCode.NOT_FOUND, message);
export const conflict = (message: string): HsError => new HsError(ErrorCode.CONFLICT, message);
export const unauthenticated = (message: string): HsError => new HsError(ErrorCode.UNAUTHENTICATED, message);
export const permissionDenied = (message: string): HsError => new HsError(ErrorCode.PERMISSION_DENIED, message);
export const preconditionFailed = (message: string): HsError => new HsError(ErrorCode.PRECONDITION_FAILED, message);
export const deadlineExceeded = (message: string): HsError => new HsError(ErrorCode.DEADLINE_EXCEEDED, message);
export const unavailable = (message: string): HsError => new HsError(ErrorCode.UNAVAILABLE, message);
export const internal = (message: string): HsError => new HsError(ErrorCode.INTERNAL, message);
/** The bus path's contract for errors: an HsError as it is, anything else INTERNAL without its details. */
export const asHsError = (error: unknown): HsError => (error instanceof HsError ? error : internal('request failed'));
