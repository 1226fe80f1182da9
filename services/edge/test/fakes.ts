/**
 * In-process fakes of the services the edge talks to (api.ts / ports.ts), so edge behaviour can
 * be tested over real TCP without any backend. Each records its calls.
 */
import type {
  Caller,
  Delivery,
  DeliveryBus,
  LoginInput,
  MessageApi,
  PresenceApi,
  Route,
  SendOptions,
  Subscription,
  TokenVerifier,
  VerifiedToken,
} from '@im/core';
import {
  codec,
  ImError,
  type Message,
  type PullRequest,
  type PullResponse,
  type SendAck,
  Status,
} from '@im/protocol';

export class FakeBus implements DeliveryBus {
  handler: ((batch: Delivery[]) => Promise<void>) | null = null;
  nodeId = '';
  unsubscribed = false;

  async publish(deliveries: Delivery[]): Promise<void> {
    await this.deliver(deliveries);
  }

  async subscribe(nodeId: string, handler: (batch: Delivery[]) => Promise<void>): Promise<Subscription> {
    this.nodeId = nodeId;
    this.handler = handler;
    return {
      close: async () => {
        this.unsubscribed = true;
        this.handler = null;
      },
    };
  }

  async deliver(batch: Delivery[]): Promise<void> {
    if (!this.handler) throw new Error('nobody subscribed');
    await this.handler(batch);
  }

  async publishOfflinePush(): Promise<void> {}
  async close(): Promise<void> {}
}

export class FakePresence implements PresenceApi {
  private epoch = 0;
  readonly logins: LoginInput[] = [];
  readonly logouts: [string, string, number][] = [];
  readonly heartbeats: Route[][] = [];
  /** Runs inside login() before it returns (to simulate a delivery racing the LOGIN). */
  duringLogin: ((epoch: number) => Promise<void>) | null = null;

  async login(input: LoginInput): Promise<{ epoch: number }> {
    this.logins.push(input);
    const epoch = ++this.epoch;
    await this.duringLogin?.(epoch);
    return { epoch };
  }

  async loginMany(inputs: LoginInput[]): Promise<{ epoch: number }[]> {
    const out: { epoch: number }[] = [];
    for (const input of inputs) out.push(await this.login(input));
    return out;
  }

  async logout(userId: string, deviceId: string, epoch: number): Promise<void> {
    this.logouts.push([userId, deviceId, epoch]);
  }

  async heartbeat(routes: Route[]): Promise<void> {
    this.heartbeats.push(routes);
  }

  async devices(): Promise<Route[]> {
    return [];
  }

  async publicKey(): Promise<Uint8Array | null> {
    return null;
  }

  async kick(): Promise<boolean> {
    return false;
  }
}

type SendImpl = (caller: Caller, m: Message, opts: SendOptions) => Promise<SendAck>;

export class FakeMessages implements MessageApi {
  readonly sends: { caller: Caller; message: Message; opts: SendOptions }[] = [];
  readonly joins: string[] = [];
  readonly quits: string[] = [];
  sendImpl: SendImpl = async (_c, m) => ({ messageUid: m.messageId + 1000n, serverTime: 1, seq: 1 });
  pullImpl: (caller: Caller, req: PullRequest) => Promise<PullResponse> = async () => ({
    messages: [],
    head: 0,
    hasMore: false,
  });

  /** Records the MS body decoded, as the message service would decode it. */
  async send(caller: Caller, body: Uint8Array, opts: SendOptions): Promise<SendAck> {
    const message = codec.Message.decode(body);
    this.sends.push({ caller, message, opts });
    return this.sendImpl(caller, message, opts);
  }

  pull(caller: Caller, req: PullRequest): Promise<PullResponse> {
    return this.pullImpl(caller, req);
  }

  async recall(): Promise<void> {}

  /** Runs inside head() (LOGIN asks for it after the connection is registered). */
  duringHead: (() => Promise<void>) | null = null;

  async head(): Promise<number> {
    await this.duringHead?.();
    return 7;
  }

  /** Inbox heads for the head sync (head-sync.ts); tests set them. */
  readonly headsOf = new Map<string, number>();
  headsCalls = 0;

  async heads(userIds: string[]): Promise<Map<string, number>> {
    this.headsCalls++;
    return new Map(userIds.map((u) => [u, this.headsOf.get(u) ?? 0]));
  }

  /** Rooms deleted since: a (re)join is NOT_FOUND. */
  readonly deletedRooms = new Set<string>(['missing']);
  /** Every successful join with who joined, `<userId>:<room>`. */
  readonly joinsBy: string[] = [];

  async joinChatroom(caller: Caller, id: string): Promise<void> {
    if (this.deletedRooms.has(id)) throw new ImError(Status.NOT_FOUND, 'no such chatroom');
    this.joins.push(id);
    this.joinsBy.push(`${caller.userId}:${id}`);
  }

  async quitChatroom(_caller: Caller, id: string): Promise<void> {
    this.quits.push(id);
  }

  readonly chatroomHeartbeats: { nodeId: string; chatroomIds: string[] }[] = [];

  /** The next chatroomHeartbeat rejects with this (then it is cleared). */
  heartbeatError: Error | null = null;

  async chatroomHeartbeat(nodeId: string, chatroomIds: string[]): Promise<void> {
    this.chatroomHeartbeats.push({ nodeId, chatroomIds });
    const err = this.heartbeatError;
    this.heartbeatError = null;
    if (err) throw err;
  }
}

/** A token's life in these fakes: long enough never to end a test's session. */
export const FAKE_TOKEN_TTL_MS = 3_600_000;

/** Accepts a token equal to `ok:<userId>`, valid for FAKE_TOKEN_TTL_MS from now. */
export const fakeVerifier: TokenVerifier = {
  async verify(token: string, userId: string): Promise<VerifiedToken> {
    if (token !== `ok:${userId}`) throw new ImError(Status.UNAUTHORIZED, 'bad token');
    return { expiresAt: Date.now() + FAKE_TOKEN_TTL_MS };
  },
};
