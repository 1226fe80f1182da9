import {
  type Caller,
  defaultConfig,
  MemoryBus,
  MemoryGroupDirectory,
  MemoryMessageStore,
  MemoryRouteStore,
  type MessageApi,
  MessageService,
  type SendOptions,
  SnowflakeUid,
  silentLogger,
} from '@im/core';
import {
  ContentType,
  codec,
  type Message,
  type PullRequest,
  type PullResponse,
  type SendAck,
  Status,
} from '@im/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageClient, type RpcServer, serveMessage } from '../src/index.js';
import { ALL_BYTES, caller, content, rejectsWith, U64_MAX } from './helpers.js';

const alice = caller('alice', 'phone', 7);
const bob = caller('bob', 'tablet', 8);

describe('MessageClient ↔ serveMessage(MessageService over memory backends)', () => {
  let service: MessageService;
  let server: RpcServer;
  let client: MessageClient;

  beforeAll(async () => {
    const config = defaultConfig();
    service = new MessageService({
      store: new MemoryMessageStore(),
      routes: new MemoryRouteStore({ ttlMs: 60_000 }),
      bus: new MemoryBus(),
      uid: new SnowflakeUid(3),
      groups: new MemoryGroupDirectory(),
      config: config.message,
      logger: silentLogger(),
    });
    server = await serveMessage(service, { host: '127.0.0.1', port: 0 });
    client = new MessageClient(`127.0.0.1:${server.port}`, { deadlineMs: 2_000 });
  });

  afterAll(async () => {
    await client.close();
    await server.close();
    await service.close();
  });

  const toBob = (messageId: bigint, over: Partial<Message> = {}): Uint8Array =>
    codec.Message.encode({
      messageId,
      messageContent: content({ data: ALL_BYTES, mentionedType: 2, mentionedTargets: ['bob', 'carol'] }),
      conversation: { type: 0, target: 'bob' },
      from: '',
      to: '',
      messageUid: 0n,
      serverTime: 0,
      seq: 0,
      ...over,
    });

  it('send: the ack of a stored message, idempotent on the same messageId (uint64 max)', async () => {
    const ack = await client.send(alice, toBob(U64_MAX), { e2e: false });
    expect(ack.seq).toBe(1);
    expect(ack.messageUid).toBeGreaterThan(0n);
    expect(Math.abs(ack.serverTime - Date.now())).toBeLessThan(5_000);
    // protocol.md §6 Send: a resend of the same key returns the same SendAck.
    expect(await client.send(alice, toBob(U64_MAX), { e2e: false })).toStrictEqual(ack);
  });

  it('pull and head return exactly what the service returns in-process', async () => {
    const since0: PullRequest = { since: 0, limit: 0, beforeUid: 0n };
    const remote = await client.pull(bob, since0);
    expect(remote).toStrictEqual(await service.pull(bob, since0));
    expect(remote.messages).toHaveLength(1);
    const m = remote.messages[0] as Message;
    expect(m.messageId).toBe(U64_MAX);
    expect(m.messageContent?.data).toStrictEqual(ALL_BYTES);
    expect(m.messageContent?.mentionedTargets).toStrictEqual(['bob', 'carol']);
    expect(m.from).toBe('alice');
    expect(m.seq).toBe(1);

    expect(await client.head('bob')).toBe(1);
    expect(await client.head('alice')).toBe(1);
    expect(await client.head('nobody')).toBe(0);

    const history: PullRequest = {
      since: 0,
      limit: 10,
      conversation: { type: 0, target: 'alice' },
      beforeUid: U64_MAX,
    };
    const page = await client.pull(bob, history);
    expect(page).toStrictEqual(await service.pull(bob, history));
    expect(page.messages.map((x) => x.messageUid)).toStrictEqual([m.messageUid]);
  });

  it('send carries the e2e flag (protocol.md §2: no plaintext with encrypt = 3)', async () => {
    await rejectsWith(client.send(alice, toBob(2n), { e2e: true }), Status.BAD_REQUEST);
    const e2e = toBob(3n, { messageContent: content({ searchableContent: '', pushContent: '' }) });
    expect((await client.send(alice, e2e, { e2e: true })).seq).toBeGreaterThan(0);
  });

  it('recall wipes the message; the contract errors cross as they are', async () => {
    const ack = await client.send(alice, toBob(10n), { e2e: false });
    await rejectsWith(client.recall(bob, ack.messageUid), Status.FORBIDDEN);
    await rejectsWith(client.recall(alice, U64_MAX), Status.NOT_FOUND);
    await client.recall(alice, ack.messageUid);
    const got = await client.pull(bob, { since: 0, limit: 0, beforeUid: 0n });
    const wiped = got.messages.find((x) => x.messageUid === ack.messageUid);
    expect(wiped?.messageContent?.contentType).toBe(ContentType.RECALL);
    expect(wiped?.messageContent?.data).toStrictEqual(new Uint8Array(0));
    const notice = got.messages.at(-1);
    expect(notice?.messageContent?.contentType).toBe(ContentType.RECALL);
  });

  it('joinChatroom / quitChatroom reach the service (no room exists yet: NOT_FOUND)', async () => {
    await rejectsWith(client.joinChatroom(alice, 'room-1'), Status.NOT_FOUND);
    await rejectsWith(client.quitChatroom(alice, 'room-1'), Status.NOT_FOUND);
  });
});

/** A MessageApi that records what it was called with and answers with extreme values. */
class RecordingMessageApi implements MessageApi {
  calls: [string, ...unknown[]][] = [];
  constructor(
    private readonly ack: SendAck,
    private readonly page: PullResponse,
  ) {}
  async send(c: Caller, m: Uint8Array, o: SendOptions) {
    this.calls.push(['send', c, m, o]);
    return this.ack;
  }
  async pull(c: Caller, r: PullRequest) {
    this.calls.push(['pull', c, r]);
    return this.page;
  }
  async recall(c: Caller, uid: bigint) {
    this.calls.push(['recall', c, uid]);
  }
  async head(userId: string) {
    this.calls.push(['head', userId]);
    return Number.MAX_SAFE_INTEGER;
  }
  async heads(userIds: string[]) {
    this.calls.push(['heads', userIds]);
    return new Map(userIds.map((u, i) => [u, i === 0 ? Number.MAX_SAFE_INTEGER : i]));
  }
  async joinChatroom(c: Caller, id: string) {
    this.calls.push(['joinChatroom', c, id]);
  }
  async quitChatroom(c: Caller, id: string) {
    this.calls.push(['quitChatroom', c, id]);
  }
  async chatroomHeartbeat(nodeId: string, ids: string[]) {
    this.calls.push(['chatroomHeartbeat', nodeId, ids]);
  }
}

describe('MessageClient ↔ serveMessage: every field exact at its extremes', () => {
  const edgeCaller: Caller = {
    userId: 'ü-user',
    deviceId: 'd',
    nodeId: 'edge-9',
    epoch: Number.MAX_SAFE_INTEGER,
  };
  const full: Message = {
    messageId: U64_MAX,
    messageContent: content({
      contentType: 0xffffffff,
      data: ALL_BYTES,
      mentionedType: 1,
      mentionedTargets: ['a', '', 'c'],
      mediaType: 7,
      msgLength: 0xffffffff,
      remoteMediaUrl: 'https://x/y',
      localMediaPath: '/tmp/y',
    }),
    conversation: { type: 2, target: 'room' },
    from: 'alice',
    to: 'bob',
    messageUid: U64_MAX - 1n,
    serverTime: Number.MIN_SAFE_INTEGER,
    seq: Number.MAX_SAFE_INTEGER,
  };
  const bare: Message = { messageId: 0n, from: '', to: '', messageUid: 0n, serverTime: 0, seq: 0 };
  const ack: SendAck = {
    messageUid: U64_MAX,
    serverTime: Number.MAX_SAFE_INTEGER,
    seq: Number.MAX_SAFE_INTEGER,
  };
  const page: PullResponse = { messages: [full, bare], head: Number.MAX_SAFE_INTEGER, hasMore: true };
  let impl: RecordingMessageApi;
  let server: RpcServer;
  let client: MessageClient;

  beforeAll(async () => {
    impl = new RecordingMessageApi(ack, page);
    server = await serveMessage(impl, { host: '127.0.0.1', port: 0 });
    client = new MessageClient(`127.0.0.1:${server.port}`, { deadlineMs: 2_000 });
  });

  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('round-trips every method and argument', async () => {
    const pullReq: PullRequest = { since: Number.MAX_SAFE_INTEGER, limit: 500, beforeUid: U64_MAX };
    const historyReq: PullRequest = { ...pullReq, conversation: { type: 1, target: 'g' } };

    expect(await client.send(edgeCaller, codec.Message.encode(full), { e2e: true })).toStrictEqual(ack);
    expect(await client.send(edgeCaller, codec.Message.encode(bare), { e2e: false })).toStrictEqual(ack);
    expect(await client.pull(edgeCaller, pullReq)).toStrictEqual(page);
    expect(await client.pull(edgeCaller, historyReq)).toStrictEqual(page);
    expect(await client.recall(edgeCaller, U64_MAX)).toBeUndefined();
    expect(await client.head('')).toBe(Number.MAX_SAFE_INTEGER);
    expect(await client.heads(['a', '', 'a'])).toStrictEqual(
      new Map([
        ['a', 2],
        ['', 1],
      ]),
    );
    expect(await client.joinChatroom(edgeCaller, 'room')).toBeUndefined();
    expect(await client.quitChatroom(edgeCaller, 'room')).toBeUndefined();
    expect(await client.chatroomHeartbeat('edge-9', ['r1', '', 'r3'])).toBeUndefined();
    expect(await client.chatroomHeartbeat('edge-9', [])).toBeUndefined();

    expect(impl.calls).toStrictEqual([
      // The MS body travels as the client sent it: byte for byte, decoded only by the service.
      ['send', edgeCaller, codec.Message.encode(full), { e2e: true }],
      ['send', edgeCaller, codec.Message.encode(bare), { e2e: false }],
      ['pull', edgeCaller, pullReq],
      ['pull', edgeCaller, historyReq],
      ['recall', edgeCaller, U64_MAX],
      // head() is coalesced into one heads() per turn (coalesce.ts).
      ['heads', ['']],
      ['heads', ['a', '', 'a']],
      ['joinChatroom', edgeCaller, 'room'],
      ['quitChatroom', edgeCaller, 'room'],
      ['chatroomHeartbeat', 'edge-9', ['r1', '', 'r3']],
      ['chatroomHeartbeat', 'edge-9', []],
    ]);
  });

  it('refuses an id outside uint64 before sending anything', async () => {
    await expect(client.recall(edgeCaller, U64_MAX + 1n)).rejects.toThrow(RangeError);
    await expect(client.recall(edgeCaller, -1n)).rejects.toThrow(RangeError);
  });
});
