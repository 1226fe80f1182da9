/**
 * fast-check over EVERY command handler (protocol.md §3, §4): arbitrary, valid and mutated bodies
 * with arbitrary flags, before and after LOGIN, on the embedded server. Each frame gets either an
 * answer whose status is in the contract's table (and never INTERNAL), or — only in the documented
 * cases — a close; a connection that stays open still answers PING.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Command,
  Compression,
  Flow,
  frameToBytes,
  Status,
  unpackFlag,
} from '../../packages/protocol/src/index.js';
import { uniqueUser } from '../support/im.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  COMMANDS,
  CONTRACT_STATUSES,
  probe,
  type RequestFrame,
  requestFrame,
  requestFrameFor,
} from './support.js';

let srv: TestServer;
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

beforeAll(async () => {
  srv = await startTestServer({
    edge: { rateFramesPerSecond: 0, rateBytesPerSecond: 0, acceptPerIpPerSecond: 0 },
  });
});

afterAll(async () => {
  await srv?.close();
});

/** protocol.md §3: the only requests that may go unanswered. */
function mayGoUnanswered(command: number, flag: number): boolean {
  return command === Command.LOGOUT && unpackFlag(flag).flow === Flow.REQUEST;
}

/** protocol.md §3's closing cases that an arbitrary frame with reserved bits 0 can hit. */
function closingStatus(status: number, command: number): boolean {
  return (
    status === Status.FRAME_TOO_LARGE ||
    (status === Status.BAD_REQUEST && command === Command.LOGIN) || // second LOGIN
    status === Status.UNAUTHORIZED // third strike before login
  );
}

async function check(loggedIn: boolean, frame: RequestFrame): Promise<void> {
  const id = loggedIn ? await srv.identity(uniqueUser('fuzz')) : null;
  const seq = 77;
  const bytes = frameToBytes({ seq, command: frame.command, flag: frame.flag, status: 0, body: frame.body });
  const r = await probe(srv.port, id, [bytes], { awaitSeq: seq });
  const answer = r.responses.find((f) => f.seq === seq);
  if (!answer) {
    expect(
      mayGoUnanswered(frame.command, frame.flag),
      `no answer to command ${frame.command} flag ${frame.flag}`,
    ).toBe(true);
    expect(r.closed).toBe(true);
    return;
  }
  expect(CONTRACT_STATUSES.has(answer.status)).toBe(true);
  expect(answer.status, `INTERNAL for command ${frame.command}`).not.toBe(Status.INTERNAL);
  expect(answer.command).toBe(frame.command);
  expect(unpackFlag(answer.flag).flow).toBe(Flow.RESPONSE);
  if (unpackFlag(frame.flag).compression !== Compression.GZIP)
    expect(unpackFlag(answer.flag).compression).toBe(0);
  if (r.closed) {
    expect(
      closingStatus(answer.status, frame.command),
      `closed after status ${answer.status} to command ${frame.command}`,
    ).toBe(true);
  } else {
    expect(r.stillServing).toBe(true);
  }
}

describe('every command handler under arbitrary input', () => {
  it.each(COMMANDS.map((c) => [c]))('command %i: arbitrary bodies after LOGIN', async (command) => {
    await fc.assert(
      fc.asyncProperty(requestFrameFor(command), async (f) => check(true, f)),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });

  it('mixed commands and flags, after LOGIN', async () => {
    await fc.assert(
      fc.asyncProperty(requestFrame, async (f) => check(true, f)),
      { numRuns: RUNS },
    );
  });

  it('mixed commands and flags, before LOGIN', async () => {
    await fc.assert(
      fc.asyncProperty(requestFrame, async (f) => check(false, f)),
      { numRuns: RUNS },
    );
  });
});
