/**
 * The protocol without Node specifics (`@im/protocol/portable`): framing, bodies, flags, statuses,
 * errors and the sizes and AAD of the frame encryption — what the browser SDK builds on
 * (STYLE.md 8: protocol and client core free of Node specifics). The full entry (index.ts) adds
 * gzip (node:zlib) and the frame encryption itself (node:crypto), which the server and the Node
 * SDK use; the browser SDK does those with CompressionStream and WebCrypto.
 */
export * from './bodies.js';
export * from './codec.js';
export * from './commands.js';
export * from './constants.js';
export * from './crypto/aad.js';
export * from './crypto/constants.js';
export * from './crypto/errors.js';
export * from './decoder.js';
export * from './errors.js';
export * from './flags.js';
export * from './frame.js';
export * from './message-seq.js';
export * from './sniff.js';
export * from './status.js';
