/**
 * The SDK's classes and end-to-end functions bound to one Runtime: each entry (index.ts for Node,
 * browser.ts) calls this once with its own, so the core never picks a runtime by itself.
 */
import { ImClient as CoreImClient, type ImClientOptions } from './client.js';
import { type ConnectionOptions, Connection as CoreConnection, type OpenOptions } from './connection.js';
import { type E2eContext, openContentWith, sealContentWith } from './e2e.js';
import type { PrivateKeyInput, PublicKeyInput, Runtime } from './runtime.js';
import type { Endpoint, Transport } from './transport.js';

/** What an entry exports for its runtime. */
export interface BoundSdk {
  runtime: Runtime;
  Connection: {
    new (transport: Transport, opts?: ConnectionOptions): CoreConnection;
    open(endpoint: Endpoint, opts?: OpenOptions): Promise<CoreConnection>;
  };
  ImClient: new (opts: ImClientOptions) => CoreImClient;
  /** Seals `plaintext` for every key in `recipients` (protocol.md §2 End-to-end RSA; e2e.ts). */
  sealContent(
    plaintext: Uint8Array,
    recipients: (PublicKeyInput | PrivateKeyInput)[],
    ctx: E2eContext,
  ): Promise<Uint8Array>;
  /** The plaintext, or a DecryptError rejection when the data is not for this key or was altered. */
  openContent(data: Uint8Array, privateKey: PrivateKeyInput, ctx: E2eContext): Promise<Uint8Array>;
}

export function bindRuntime(runtime: Runtime): BoundSdk {
  class Connection extends CoreConnection {
    constructor(transport: Transport, opts: ConnectionOptions = {}) {
      super(transport, { runtime, ...opts });
    }

    static override open(endpoint: Endpoint, opts: OpenOptions = {}): Promise<CoreConnection> {
      return CoreConnection.open(endpoint, { runtime, ...opts });
    }
  }

  class ImClient extends CoreImClient {
    constructor(opts: ImClientOptions) {
      super({ runtime, ...opts });
    }
  }

  return {
    runtime,
    Connection,
    ImClient,
    sealContent: (plaintext, recipients, ctx) => sealContentWith(runtime, plaintext, recipients, ctx),
    openContent: (data, privateKey, ctx) => openContentWith(runtime, data, privateKey, ctx),
  };
}
