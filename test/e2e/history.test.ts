/**
 * protocol.md §5 PullRequest.conversation / beforeUid and §6 Conversation history, against the
 * embedded server: each conversation as the requester received it, newest first, paged by
 * beforeUid; `since` ignored, `head` the requester's inbox head. Single chats from both sides
 * (the peer is the other party), groups from every member.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Command,
  ConversationType,
  codec,
  type PullResponse,
  Status,
} from '../../packages/protocol/src/index.js';
import { adminClient } from '../support/admin.js';
import { connectAs, errorOf, expectStatus, sendOk, text, textMessage, uniqueUser } from '../support/im.js';
import type { RawClient } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
const clients: RawClient[] = [];

async function online(userId: string, deviceId = 'd1') {
  const r = await connectAs(srv.port, await srv.identity(userId, deviceId));
  clients.push(r.c);
  return r.c;
}

async function historyPage(
  c: RawClient,
  type: number,
  target: string,
  beforeUid: bigint,
  limit: number,
  since = 0,
): Promise<PullResponse> {
  const res = await c.request({
    command: Command.MP,
    body: codec.PullRequest.encode({ since, limit, conversation: { type, target }, beforeUid }),
  });
  return codec.PullResponse.decode(expectStatus(res, Status.OK).body);
}

/** Every page of a conversation, newest first, following beforeUid; returns the texts per page. */
async function allPages(c: RawClient, type: number, target: string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let before = 0n;
  for (;;) {
    const page = await historyPage(c, type, target, before, limit);
    pages.push(page.messages.map(text));
    const uids = page.messages.map((m) => m.messageUid);
    // Newest first: strictly decreasing uids.
    for (let i = 1; i < uids.length; i++) expect(uids[i] as bigint).toBeLessThan(uids[i - 1] as bigint);
    if (!page.hasMore) return pages;
    before = uids.at(-1) as bigint;
  }
}

beforeAll(async () => {
  srv = await startTestServer();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await srv?.close();
});

describe('conversation history (protocol.md §6 Conversation history)', () => {
  it('single chat: the same conversation from both sides, each under its peer, paged newest first', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const carol = uniqueUser('carol');
    const a = await online(alice);
    const b = await online(bob);
    const c = await online(carol);
    // Interleave both directions and an unrelated conversation.
    for (let i = 1; i <= 7; i++) {
      await sendOk(i % 2 === 1 ? a : b, textMessage(i % 2 === 1 ? bob : alice, `m${i}`));
      await sendOk(c, textMessage(alice, `noise${i}`));
    }
    const expected = [['m7', 'm6', 'm5'], ['m4', 'm3', 'm2'], ['m1']];
    // hasMore is exact: a count that divides evenly ends without an empty page.
    expect(await allPages(a, ConversationType.SINGLE, bob, 7)).toEqual([
      ['m7', 'm6', 'm5', 'm4', 'm3', 'm2', 'm1'],
    ]);
    expect(await allPages(a, ConversationType.SINGLE, bob, 3)).toEqual(expected);
    expect(await allPages(b, ConversationType.SINGLE, alice, 3)).toEqual(expected);
    // From Alice's side Carol's conversation is separate.
    expect((await allPages(a, ConversationType.SINGLE, carol, 100))[0]).toHaveLength(7);

    // `since` is ignored; head is the requester's inbox head (Alice: 7 + 7 noise).
    const page = await historyPage(a, ConversationType.SINGLE, bob, 0n, 2, 999);
    expect(page.messages.map(text)).toEqual(['m7', 'm6']);
    expect(page.head).toBe(14);
    expect(page.hasMore).toBe(true);
    // The seq of each entry is the requester's own.
    const bobPage = await historyPage(b, ConversationType.SINGLE, alice, 0n, 7);
    expect(bobPage.messages.map((m) => m.seq)).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  it('group: every member pages the same messages, each with their own seqs', async () => {
    const [alice, bob, carol] = [uniqueUser('alice'), uniqueUser('bob'), uniqueUser('carol')];
    const groupId = uniqueUser('group');
    const admin = adminClient(srv.adminUrl, srv.adminSecret);
    expect((await admin.call('POST', '/v1/groups', { groupId, members: [alice, bob, carol] })).status).toBe(
      201,
    );
    const a = await online(alice);
    const b = await online(bob);
    const c = await online(carol);
    await sendOk(c, textMessage(bob, 'before the group, only in bob and carol'));
    const senders = [a, b, c, a, b];
    for (const [i, s] of senders.entries()) {
      await sendOk(s, textMessage(groupId, `g${i + 1}`, { type: ConversationType.GROUP }));
    }
    const expected = [['g5', 'g4'], ['g3', 'g2'], ['g1']];
    for (const x of [a, b, c])
      expect(await allPages(x, ConversationType.GROUP, groupId, 2)).toEqual(expected);
    const alicePage = await historyPage(a, ConversationType.GROUP, groupId, 0n, 5);
    const bobPage = await historyPage(b, ConversationType.GROUP, groupId, 0n, 5);
    expect(alicePage.messages.map((m) => m.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(bobPage.messages.map((m) => m.seq)).toEqual([6, 5, 4, 3, 2]);
    expect(bobPage.messages.map((m) => m.messageUid)).toEqual(alicePage.messages.map((m) => m.messageUid));
  });

  it('an empty or unknown conversation is an empty page; an empty target is BAD_REQUEST', async () => {
    const a = await online(uniqueUser('alice'));
    const page = await historyPage(a, ConversationType.SINGLE, uniqueUser('stranger'), 0n, 10);
    expect(page).toMatchObject({ messages: [], hasMore: false });
    const res = await a.request({
      command: Command.MP,
      body: codec.PullRequest.encode({
        since: 0,
        limit: 10,
        conversation: { type: ConversationType.SINGLE, target: '' },
        beforeUid: 0n,
      }),
    });
    expectStatus(res, Status.BAD_REQUEST);
    expect(errorOf(res).message).toMatch(/target/);
  });
});
