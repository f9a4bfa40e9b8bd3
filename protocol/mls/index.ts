// Public API of the MLS public group view used by the Delivery Service.
export { PublicGroupView } from './view.js';
export type { Member, ProcessOptions, ProcessResult, PrivateMessageHeader, PrivateMessageOptions } from './view.js';
export type { CommitOutcome } from './commit.js';
export { MlsErrorCode, MlsValidationError } from './errors.js';
export type { Credential, GroupContext } from './tsmls.js';
