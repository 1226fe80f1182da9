/**
 * Shared by the fuzz tests and the soak script: the seed corpus, frame generators and mutators, and
 * a probe that writes bytes on a (logged-in) connection and collects what the server does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  Command,
  codec,
  type Frame,
  frameToBytes,
  packFlag,
  STATUS_CATALOG,
  Status,
} from '../../packages/protocol/src/index.js';
import { hexToBytes } from '../../packages/protocol/test/vectors/index.js';
import { type Identity, loginBody } from '../support/im.js';
import { isResponse, RawClient } from '../support/raw-client.js';

export interface CorpusEntry {
  name: string;
  about: string;
  phase: 'before-login' | 'after-login';
  frames: Uint8Array[];
}

export function loadCorpus(): CorpusEntry[] {
  const dir = new URL('./corpus/', import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((file) => {
      const lines = readFileSync(new URL(file, dir), 'utf8').split('\n');
      const comments = lines.filter((l) => l.startsWith('#')).map((l) => l.slice(1).trim());
      const phase = comments
        .find((c) => c.startsWith('phase:'))
        ?.slice(6)
        .trim();
      return {
        name: file.replace(/\.hex$/, ''),
        about: comments[0] ?? '',
        phase: phase === 'before-login' ? 'before-login' : 'after-login',
        frames: lines.filter((l) => l && !l.startsWith('#')).map((l) => hexToBytes(l.trim())),
      };
    });
}

/** Every status the contract defines (protocol.md §3). */
export const CONTRACT_STATUSES: ReadonlySet<number> = new Set(STATUS_CATALOG.map((s) => s.code));

/** Commands a client may send, plus server-only and undefined ones (they must be refused). */
export const COMMANDS = [
  Command.LOGIN,
  Command.LOGOUT,
  Command.PING,
  Command.MS,
  Command.MP,
  Command.MN,
  Command.MR,
  Command.MPS,
  Command.CRJ,
  Command.CRQ,
  Command.RESERVED,
  11,
  99,
  255,
] as const;

/** A body that is a valid encoding of the command's request type, with arbitrary field values. */
const validBody: Record<number, fc.Arbitrary<Uint8Array>> = {
  [Command.LOGIN]: fc
    .record({
      userId: fc.string(),
      token: fc.string(),
      deviceId: fc.string(),
      platform: fc.nat(),
      publicKey: fc.uint8Array({ maxLength: 64 }),
    })
    .map((v) => codec.LoginRequest.encode(v)),
  [Command.MS]: fc
    .record({
      messageId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      conversation: fc.record({ type: fc.nat({ max: 5 }), target: fc.string({ maxLength: 20 }) }),
      from: fc.string({ maxLength: 10 }),
      to: fc.string({ maxLength: 10 }),
      messageContent: fc.record({
        contentType: fc.constantFrom(0, 1, 2, 7, 8, 80, 1000),
        searchableContent: fc.string({ maxLength: 50 }),
        pushContent: fc.string({ maxLength: 10 }),
        data: fc.uint8Array({ maxLength: 100 }),
        mentionedType: fc.nat({ max: 3 }),
        mentionedTargets: fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }),
      }),
    })
    .map((v) => codec.Message.encode(v)),
  [Command.MP]: fc
    .record({
      since: fc.nat(),
      limit: fc.nat(),
      beforeUid: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      conversation: fc.option(fc.record({ type: fc.nat({ max: 5 }), target: fc.string({ maxLength: 10 }) }), {
        nil: undefined,
      }),
    })
    .map((v) => codec.PullRequest.encode(v)),
  [Command.MR]: fc
    .bigInt({ min: 0n, max: 2n ** 64n - 1n })
    .map((messageUid) => codec.RecallRequest.encode({ messageUid })),
  [Command.CRJ]: fc
    .string({ maxLength: 30 })
    .map((chatroomId) => codec.ChatroomRequest.encode({ chatroomId })),
  [Command.CRQ]: fc
    .string({ maxLength: 30 })
    .map((chatroomId) => codec.ChatroomRequest.encode({ chatroomId })),
};

/** Flips, inserts and deletes a few bytes. */
export function mutate(bytes: Uint8Array, rand: () => number): Uint8Array {
  const out = Array.from(bytes);
  const edits = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (out.length + 1));
    const r = rand();
    if (r < 0.5 && out.length > 0) {
      const i = Math.min(at, out.length - 1);
      out[i] = (out[i] as number) ^ (1 << Math.floor(rand() * 8));
    } else if (r < 0.75) out.splice(at, 0, Math.floor(rand() * 256));
    else out.splice(at, 1);
  }
  return Uint8Array.from(out);
}

/** A body for `command`: arbitrary bytes, a valid encoding, or a mutated valid encoding. */
export function bodyFor(command: number): fc.Arbitrary<Uint8Array> {
  const valid = validBody[command];
  const junk = fc.uint8Array({ maxLength: 300 });
  if (!valid) return junk;
  return fc.oneof(
    junk,
    valid,
    fc.tuple(valid, fc.integer()).map(([b, seed]) => {
      // A small LCG seeded by fast-check, so a failing case replays exactly.
      let s = seed >>> 0;
      return mutate(b, () => {
        s = (s * 1664525 + 1013904223) >>> 0;
        return s / 2 ** 32;
      });
    }),
  );
}

export interface RequestFrame {
  command: number;
  flag: number;
  body: Uint8Array;
}

/** A request frame for `command`: a flag with reserved bits 0 (any other part), a body. */
export function requestFrameFor(command: number): fc.Arbitrary<RequestFrame> {
  return fc.record({
    command: fc.constant(command),
    flag: fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      {
        weight: 1,
        arbitrary: fc
          .record({ compression: fc.nat({ max: 3 }), encrypt: fc.nat({ max: 3 }), flow: fc.nat({ max: 3 }) })
          .map((p) => packFlag(p)),
      },
    ),
    body: bodyFor(command),
  });
}

/** A request frame for any command of COMMANDS. */
export const requestFrame: fc.Arbitrary<RequestFrame> = fc.constantFrom(...COMMANDS).chain(requestFrameFor);

export interface ProbeResult {
  /** Responses to what we wrote, in order. */
  responses: Frame[];
  /** The server closed the connection. */
  closed: boolean;
  /**
   * After everything, a PING on the same connection was answered (OK after LOGIN, UNAUTHORIZED
   * before it); undefined if the connection closed.
   */
  stillServing?: boolean;
}

export interface ProbeOptions {
  /** Stop waiting once a response with this seq came (or the connection closed). */
  awaitSeq?: number;
  /** Without awaitSeq: wait until nothing arrived for this long. Default 150 ms. */
  quietMs?: number;
}

const PROBE_PING_SEQ = 0xfffffff0;

/** Connects (and logs in when `id` is given), writes `bytes`, waits, then checks the connection with a PING. */
export async function probe(
  port: number,
  id: Identity | null,
  bytes: Uint8Array[],
  opts: ProbeOptions = {},
): Promise<ProbeResult> {
  const c = await RawClient.connect(port);
  try {
    if (id) {
      const res = await c.request({ command: Command.LOGIN, body: loginBody(id), seq: 1 });
      if (res.status !== Status.OK) throw new Error(`probe LOGIN failed with status ${res.status}`);
    }
    const before = c.received.length;
    for (const b of bytes) c.write(b);
    if (opts.awaitSeq !== undefined) {
      const seq = opts.awaitSeq;
      await Promise.race([
        c.next((f) => isResponse(f) && f.seq === seq, 3000).catch(() => undefined),
        c.closed,
      ]);
      await c.closedWithin(5); // a close right behind the answer
    } else {
      let seen = -1;
      while (seen !== c.received.length && !c.isClosed) {
        seen = c.received.length;
        await c.closedWithin(opts.quietMs ?? 150);
      }
    }
    const responses = c.received.slice(before).filter(isResponse);
    if (c.isClosed) return { responses, closed: true };
    c.write(
      frameToBytes({
        seq: PROBE_PING_SEQ,
        command: Command.PING,
        flag: 0,
        status: 0,
        body: new Uint8Array(0),
      }),
    );
    let stillServing = false;
    try {
      const pong = await c.next((f) => isResponse(f) && f.seq === PROBE_PING_SEQ, 3000);
      stillServing = pong.status === (id ? Status.OK : Status.UNAUTHORIZED);
    } catch {
      stillServing = c.isClosed ? (undefined as unknown as boolean) : false;
    }
    return { responses: responses.filter((f) => f.seq !== PROBE_PING_SEQ), closed: c.isClosed, stillServing };
  } finally {
    c.close();
  }
}
