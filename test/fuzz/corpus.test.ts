/**
 * The seed corpus (test/fuzz/corpus/*.hex) replayed against the embedded server: every answer has
 * a status from the contract's table and never INTERNAL, a connection that survives still answers
 * PING, and a fresh client logs in and sends after each case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status } from '../../packages/protocol/src/index.js';
import { connectAs, sendOk, textMessage, uniqueUser } from '../support/im.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { CONTRACT_STATUSES, loadCorpus, probe } from './support.js';

let srv: TestServer;
const corpus = loadCorpus();

beforeAll(async () => {
  srv = await startTestServer({
    edge: { rateFramesPerSecond: 0, rateBytesPerSecond: 0, acceptPerIpPerSecond: 0 },
  });
});

afterAll(async () => {
  await srv?.close();
});

describe('seed corpus', () => {
  it('has the cases the soak script mutates', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
    expect(corpus.every((e) => e.frames.length > 0)).toBe(true);
  });

  it.each(corpus.map((e) => [e.name, e] as const))('%s', async (_name, entry) => {
    const id = entry.phase === 'after-login' ? await srv.identity(uniqueUser('corpus')) : null;
    const r = await probe(srv.port, id, entry.frames);
    for (const f of r.responses) {
      expect(CONTRACT_STATUSES.has(f.status), `status ${f.status}`).toBe(true);
      expect(f.status).not.toBe(Status.INTERNAL);
    }
    if (!r.closed) expect(r.stillServing).toBe(true);
    const bob = uniqueUser('fresh');
    const { c: a } = await connectAs(srv.port, await srv.identity(uniqueUser('fresh')));
    await sendOk(a, textMessage(bob, 'alive'));
    a.close();
  });
});
