/**
 * Caps applied while decoding every request body (the edge, and the message service for MS bodies) (protocol.md §6 Limits and abuse: string, bytes
 * and repeated fields; protobuf nesting). Over a cap: BAD_REQUEST, the connection stays open.
 */

import type { DecodeLimits } from '@im/protocol';
import type { Config } from './config.js';

const cache = new WeakMap<Config['edge'], DecodeLimits>();

export function decodeLimits(edge: Config['edge']): DecodeLimits {
  let limits = cache.get(edge);
  if (!limits) {
    limits = {
      maxStringLength: edge.maxStringLength,
      maxBytesLength: edge.maxBytesLength,
      maxRepeated: edge.maxRepeated,
      maxDepth: edge.maxProtobufDepth,
    };
    cache.set(edge, limits);
  }
  return limits;
}
