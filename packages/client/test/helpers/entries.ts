/**
 * The SDK's two entries, for the tests both must pass (STYLE.md "every backend twice"): the Node
 * build (`@im/client`: TCP/TLS, node:crypto, node:zlib) and the browser build
 * (`@im/client/browser`: WebSocket, WebCrypto, DecompressionStream), which Node 24 runs as it is.
 */
import * as browser from '../../src/browser.js';
import * as node from '../../src/index.js';

/** What the two entries have in common. */
export type Sdk = typeof node | typeof browser;

export interface Entry {
  name: 'node' | 'browser';
  sdk: Sdk;
  /** The transport a client of this entry uses by default against a real server. */
  transport: 'tcp' | 'ws';
}

export const ENTRIES: Entry[] = [
  { name: 'node', sdk: node, transport: 'tcp' },
  { name: 'browser', sdk: browser, transport: 'ws' },
];

export type AnyConnection = InstanceType<Sdk['Connection']>;
export type AnyImClient = InstanceType<Sdk['ImClient']>;
