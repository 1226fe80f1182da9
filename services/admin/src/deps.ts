import type { Chatroom, GroupAdmin, Logger, PresenceApi } from '@im/core';

/** What the admin API needs of presence (api.ts PresenceApi: in-process or over gRPC). */
export type AdminPresence = Pick<PresenceApi, 'devices' | 'kick' | 'publicKey'>;

/** Chatroom management (protocol.md §7): the directory plus who is present (chatrooms.ts). */
export interface ChatroomAdmin {
  /** null when the room exists already. */
  createChatroom(chatroomId: string): Promise<Chatroom | null>;
  /** With the member connections present now. */
  getChatroom(chatroomId: string): Promise<(Chatroom & { members: number }) | null>;
  /** Deletes the room and forgets who was in it; false when unknown. */
  deleteChatroom(chatroomId: string): Promise<boolean>;
}

/**
 * Everything the admin API talks to, injected as interfaces: embedded mode passes the in-process
 * services, the cluster's admin process gRPC clients (main.ts).
 */
export interface AdminDeps {
  /** The bearer secret (config admin.secret). */
  secret: string;
  presence: AdminPresence;
  groups: GroupAdmin;
  chatrooms: ChatroomAdmin;
  /** Signs a development token (config admin.devTokens); absent: POST /v1/tokens does not exist. */
  issueToken?: ((userId: string, ttlSeconds: number) => Promise<string>) | null;
  /** The server's RSA public key, SPKI PEM (protocol.md §2 RSA); null or absent: 404. */
  serverPublicKey?: () => string | null;
  /** /readyz: are the backends reachable? Default: always. */
  ready?: () => Promise<boolean>;
  /**
   * The web chat demo (config admin.webDemo, embedded mode): its page under /demo/, and development
   * tokens for it without the bearer secret (routes/demo.ts). Absent: none of /demo/ exists.
   */
  webDemo?: WebDemo | null;
  /** /metrics (a prom-client Registry); absent: 404. */
  metrics?: { contentType: string; metrics(): Promise<string> };
  logger?: Logger;
}

/** Where the demo's files are and how its page reaches the edge (protocol.md §1 WebSocket transport). */
export interface WebDemo {
  /** The folder of index.html, style.css and dist/app.js (services/embedded/web). */
  dir: string;
  /** The edge's WebSocket port. */
  wsPort: number;
  /** wss (the edge has TLS files). */
  tls: boolean;
  /** Signs a development token (the same signer as POST /v1/tokens). */
  issueToken(userId: string, ttlSeconds: number): Promise<string>;
}
