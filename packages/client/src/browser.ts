/**
 * `@im/client/browser`: the same SDK for browsers, with no `node:` import anywhere below it —
 * WebSocket (protocol.md §1, `ws(s)://host:port/im`, subprotocol im.v1), WebCrypto for HKDF,
 * AES-256-GCM and RSA-OAEP, DecompressionStream for gzip (runtime.web.ts). Built into one ESM file
 * by `pnpm build:web` (packages/client/scripts/build-browser.mjs).
 */
import { bindRuntime } from './bind.js';
import type { ImClient as CoreImClient } from './client.js';
import type { Connection as CoreConnection } from './connection.js';
import { webRuntime } from './runtime.web.js';

export * from './shared.js';
export { webRuntime };

export const { Connection, ImClient, sealContent, openContent } = bindRuntime(webRuntime);
export type Connection = CoreConnection;
export type ImClient = CoreImClient;
