export { run, usage } from './cli.js';
export { describe, describeError } from './describe.js';
export { clock, formatAck, formatMessage, messageJson, toJson } from './format.js';
export { CliError, type Io, UsageError } from './io.js';
export { devSecret, parseTtl, signToken } from './token.js';
