/**
 * The CPU of the edge's own path per message, without sockets, syscalls or a load generator on the
 * machine: the embedded composition (Connection, dispatch, MessageService, the store, fan-out, the
 * memory bus, the delivery handler) driven in ONE process through transports that only count what
 * is written. Pairs of logged-in connections; each turn, `--per-turn` senders each hand the edge
 * one MS frame (built before the clock starts), then the turn ends (setImmediate); CPU is
 * process.cpuUsage() over the measured turns, divided by the MPS frames written. A profile of
 * this process (`node --cpu-prof`) shows the path alone.
 *
 *   node --import tsx bench/src/edge-path.ts [--store memory|sqlite] [--pairs 200] [--per-turn 20]
 *     [--messages 100000] [--linger MS] [--runs 3]
 *
 * What it leaves out, on purpose: the socket reads and writes (what a write syscall costs is the
 * kernel's, the same for every server) and the client. What `pnpm bench:peers` counts on top.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLogger,
  Hs256Verifier,
  loadConfig,
  MemoryMessageStore,
  type MessageStore,
  SqliteMessageStore,
  signDevToken,
} from '@im/core';
import {
  Command,
  ContentType,
  ConversationType,
  codec,
  FLAG_FLOW_MASK,
  Flow,
  frameToBytes,
  OFFSET_COMMAND,
  OFFSET_FLAG,
  Status,
} from '@im/protocol';
import { Connection } from '../../services/edge/src/connection.js';
import { createDeliveryHandler } from '../../services/edge/src/deliveries.js';
import { createEdgeContext } from '../../services/edge/src/edge.js';
import type { ClientTransport, TransportHandlers } from '../../services/edge/src/transport.js';
import { inProcessServices } from './in-process.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** Counts the frames the edge writes, by command and flow; writes nothing anywhere. */
class CountingTransport implements ClientTransport {
  readonly kind = 'tcp';
  readonly framing = 'stream';
  readonly remote = '127.0.0.1:1';
  readonly bytesRead = 0;
  bytesWritten = 0;
  readonly writableLength = 0;
  readonly writable = true;
  handlers: TransportHandlers | null = null;
  acks = 0;
  pushes = 0;
  loggedIn = false;

  start(h: TransportHandlers): void {
    this.handlers = h;
  }
  onClose(): void {}
  cork(): void {}
  uncork(): void {}
  writeFrame(header: Uint8Array, body: Uint8Array, tail?: Uint8Array | null): void {
    this.bytesWritten += header.length + body.length + (tail?.length ?? 0);
    const command = header[OFFSET_COMMAND];
    const flow = (header[OFFSET_FLAG] as number) & FLAG_FLOW_MASK;
    if (flow === Flow.NOTIFY && command === Command.MPS) this.pushes++;
    else if (flow === Flow.RESPONSE && command === Command.MS) this.acks++;
    else if (flow === Flow.RESPONSE && command === Command.LOGIN) this.loggedIn = true;
  }
  end(): void {}
  destroy(): void {}
  pause(): void {}
  resume(): void {}
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  const storeKind = arg('store', 'memory');
  const pairs = Number(arg('pairs', '200'));
  const perTurn = Math.min(pairs, Number(arg('per-turn', '20')));
  const messages = Number(arg('messages', '100000'));
  const runs = Number(arg('runs', '3'));
  const secret = 'x'.repeat(32);
  const config = loadConfig(
    {
      IM_JWT_SECRET: secret,
      LOG_LEVEL: 'warn',
      // The load is the point here, not the per-connection limits.
      IM_RATE_FRAMES_PER_SECOND: '1000000',
      IM_RATE_FRAMES_BURST: '1000000',
    },
    {},
    'embedded',
  );
  const logger = createLogger('bench', config);
  const dir = mkdtempSync(join(tmpdir(), 'im-edge-path-'));
  const store: MessageStore =
    storeKind === 'sqlite'
      ? await SqliteMessageStore.open({
          path: join(dir, 'im.db'),
          commitLingerMs: Number(arg('linger', '0')),
        })
      : new MemoryMessageStore();
  const { bus, message, presence } = inProcessServices(config, logger, store);
  const ctx = createEdgeContext(
    { config, nodeId: 'bench-1', message, presence, bus, verifier: new Hs256Verifier(secret), logger },
    () => {},
  );
  await bus.subscribe(ctx.nodeId, createDeliveryHandler(ctx));

  // Log every connection in, one frame each.
  const senders: CountingTransport[] = [];
  const recipients: CountingTransport[] = [];
  const login = async (user: string): Promise<CountingTransport> => {
    const t = new CountingTransport();
    new Connection(ctx, t);
    const body = codec.LoginRequest.encode({
      userId: user,
      token: await signDevToken(secret, user, 3600),
      deviceId: 'd1',
    });
    t.handlers?.data(
      frameToBytes({ seq: 1, command: Command.LOGIN, flag: 0, status: Status.OK, body }),
      true,
    );
    return t;
  };
  for (let i = 0; i < pairs; i++) {
    senders.push(await login(`s${i}`));
    recipients.push(await login(`r${i}`));
  }
  for (let i = 0; ![...senders, ...recipients].every((t) => t.loggedIn); i++) {
    if (i === 10000) throw new Error('logins never answered');
    await turn();
  }

  // Every MS frame, built before the clock starts: each sender's own seqs and messageIds.
  const data = new Uint8Array(64).fill(7);
  const frameOf = (pair: number, n: number): Uint8Array =>
    frameToBytes({
      seq: n + 2,
      command: Command.MS,
      flag: 0,
      status: Status.OK,
      body: codec.Message.encode({
        messageId: BigInt(n + 1),
        messageContent: { contentType: ContentType.TEXT, data },
        conversation: { type: ConversationType.SINGLE, target: `r${pair}` },
        to: `r${pair}`,
      }),
    });
  let sent = 0;
  const sentBy = new Array<number>(pairs).fill(0);
  const frames = (count: number): Uint8Array[][] => {
    const turns: Uint8Array[][] = [];
    for (let done = 0; done < count; done += perTurn) {
      const batch: Uint8Array[] = [];
      for (let k = 0; k < perTurn; k++) {
        const pair = (sent + k) % pairs;
        const n = sentBy[pair] ?? 0;
        sentBy[pair] = n + 1;
        batch.push(frameOf(pair, n));
      }
      sent += perTurn;
      turns.push(batch);
    }
    return turns;
  };
  const pushed = () => recipients.reduce((a, t) => a + t.pushes, 0);
  const drive = async (turns: Uint8Array[][]): Promise<void> => {
    const target = pushed() + turns.length * perTurn;
    let next = 0;
    for (const batch of turns) {
      for (let k = 0; k < batch.length; k++) {
        senders[(next + k) % pairs]?.handlers?.data(batch[k] as Uint8Array, true);
      }
      next += batch.length;
      await turn();
    }
    while (pushed() < target) await turn();
  };

  await drive(frames(Math.min(20_000, messages))); // warm-up: JIT, caches, the store's pages
  const results: number[] = [];
  for (let r = 0; r < runs; r++) {
    const turns = frames(messages);
    const before = pushed();
    const cpu0 = process.cpuUsage();
    await drive(turns);
    const cpu = process.cpuUsage(cpu0);
    const n = pushed() - before;
    results.push((cpu.user + cpu.system) / n);
  }
  const acks = senders.reduce((a, t) => a + t.acks, 0);
  process.stdout.write(
    `edge path, ${storeKind} store, ${pairs} pairs, ${perTurn} MS a turn: CPU µs per message ` +
      `${results.map((v) => v.toFixed(1)).join(' / ')} (${runs} runs of ${messages}; ${acks} acks, ${pushed()} pushes)\n`,
  );
  await message.close();
  await bus.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`edge-path failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
