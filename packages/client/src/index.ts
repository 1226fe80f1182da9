/**
 * `@im/client` for Node: TCP or TLS by default (transport.node.ts), node:crypto and node:zlib
 * (runtime.node.ts). The WebSocket connector is exported too (Node 24 has a WebSocket). The
 * browser entry is browser.ts (`@im/client/browser`).
 */
import { bindRuntime } from './bind.js';
import type { ImClient as CoreImClient } from './client.js';
import type { Connection as CoreConnection } from './connection.js';
import { nodeRuntime } from './runtime.node.js';

export * from './shared.js';
export { connectNode, nodeConnector } from './transport.node.js';
export { nodeRuntime };

export const { Connection, ImClient, sealContent, openContent } = bindRuntime(nodeRuntime);
export type Connection = CoreConnection;
export type ImClient = CoreImClient;
