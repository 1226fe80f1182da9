/** The protobuf runtime of the generated codecs (scripts/gen-proto.mjs → src/gen). */
export { type Input, type MessageType, messageType, readNested, writeNested } from './message.js';
export { DEFAULT_MAX_DEPTH, DecodeError, type DecodeLimits, Reader } from './reader.js';
export * from './writer.js';
