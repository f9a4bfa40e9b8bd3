// The one entry point to the generated wire types.
import './protobuf-setup.js';

export { hs } from './generated/proto.js';
export { encodeMessage, type Encodable } from './encode.js';
