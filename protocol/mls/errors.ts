// Every way a message can be refused by the public view. Callers (the DS actor) map these codes to
// their own wire errors, so the set is part of the view's API: add codes, never renumber or reuse them.
export enum MlsErrorCode {
  Malformed = 'Malformed',
  UnsupportedCiphersuite = 'UnsupportedCiphersuite',
  WrongWireFormat = 'WrongWireFormat',
  WrongGroupId = 'WrongGroupId',
  WrongEpoch = 'WrongEpoch',
  WrongContentType = 'WrongContentType',
  UnknownSender = 'UnknownSender',
  InvalidSignature = 'InvalidSignature',
  InvalidLeafNode = 'InvalidLeafNode',
  InvalidKeyPackage = 'InvalidKeyPackage',
  InvalidProposal = 'InvalidProposal',
  UnknownProposal = 'UnknownProposal',
  InvalidCommit = 'InvalidCommit',
  MissingUpdatePath = 'MissingUpdatePath',
  InvalidUpdatePath = 'InvalidUpdatePath',
  InvalidParentHash = 'InvalidParentHash',
  DuplicateKey = 'DuplicateKey',
  InvalidTree = 'InvalidTree',
  TreeHashMismatch = 'TreeHashMismatch',
  InvalidGroupInfo = 'InvalidGroupInfo',
  WelcomeMismatch = 'WelcomeMismatch',
  InvalidSnapshot = 'InvalidSnapshot',
  GroupReinitialized = 'GroupReinitialized',
}

export class MlsValidationError extends Error {
  override readonly name = 'MlsValidationError';
  constructor(
    readonly code: MlsErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Throws a typed refusal unless `condition` holds. */
export function ensure(condition: unknown, code: MlsErrorCode, message: string): asserts condition {
  if (!condition) throw new MlsValidationError(code, message);
}
