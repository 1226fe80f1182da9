/**
 * The embedded store on each SQLite engine, on the project's own append pattern (docs/storage.md
 * "Choosing the engine"): the real SqliteMessageStore, one 1:1 message a time (1 message row, 2 inbox
 * rows with per-user seq, the idempotency key), group commits of 1 / 16 / 64 / 256 appends, WAL +
 * synchronous=FULL on this machine's disk. Prints CPU µs per message (user + system, the whole
 * process), wall time per commit, a pull of 100 messages, and RSS over a bare process.
 *
 *   node --import tsx bench/src/store-engines.ts [--messages N] [--dir DIR]
 *
 * node:sqlite is always measured. better-sqlite3 is not a dependency: it is measured when it can be
 * imported, or loaded from IM_BENCH_BETTER_SQLITE3 (a path to its package folder); else skipped
 * with the reason. Each engine runs in a child process of its own, so their RSS do not mix.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppendRequest, SnowflakeUid, type SqliteConnection, SqliteMessageStore } from '@im/core';
import { ContentType, ConversationType } from '@im/protocol';

type Engine = 'node:sqlite' | 'better-sqlite3';
const GROUPS = [1, 16, 64, 256];

interface EngineResult {
  engine: Engine;
  cpuUsPerMessage: Record<number, number>;
  wallMsPerCommit: Record<number, number>;
  pull100Ms: number;
  rssMiB: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** better-sqlite3 behind the store's SqliteConnection (database.ts): the same calls, other names. */
function betterConnect(): ((path: string) => SqliteConnection) | string {
  const require = createRequire(import.meta.url);
  let Database: new (
    path: string,
  ) => {
    prepare(sql: string): {
      run(...p: unknown[]): { changes: number };
      get(...p: unknown[]): unknown;
      all(...p: unknown[]): unknown[];
      iterate(...p: unknown[]): IterableIterator<unknown>;
      safeIntegers(on: boolean): void;
    };
    exec(sql: string): void;
    close(): void;
    inTransaction: boolean;
  };
  try {
    Database = require(process.env.IM_BENCH_BETTER_SQLITE3 ?? 'better-sqlite3');
  } catch (e) {
    return `not installed (${(e as Error).message.split('\n')[0]}); npm install better-sqlite3 in any folder and set IM_BENCH_BETTER_SQLITE3 to its node_modules/better-sqlite3`;
  }
  return (path) => {
    const db = new Database(path);
    return {
      prepare(sql) {
        const s = db.prepare(sql);
        return {
          run: (...p) => s.run(...p),
          get: (...p) => s.get(...p),
          all: (...p) => s.all(...p),
          iterate: (...p) => s.iterate(...p),
          setReadBigInts: (on) => s.safeIntegers(on),
        };
      },
      exec: (sql) => db.exec(sql),
      close: () => db.close(),
      get isTransaction() {
        return db.inTransaction;
      },
    };
  };
}

function message(uids: SnowflakeUid, i: number): AppendRequest {
  const pair = i % 200;
  const [from, to] = [`u${pair}a`, `u${pair}b`];
  return {
    message: {
      uid: uids.next(),
      messageId: BigInt(i + 1),
      from,
      fromDevice: 'd1',
      to,
      conversation: { type: ConversationType.SINGLE, target: to },
      serverTime: Date.now(),
      e2e: false,
      content: {
        contentType: ContentType.TEXT,
        searchableContent: '',
        pushContent: '',
        data: new Uint8Array(64).fill(120),
        mentionedType: 0,
        mentionedTargets: [],
        mediaType: 0,
        msgLength: 0,
        remoteMediaUrl: '',
        localMediaPath: '',
      },
    },
    inboxUsers: [from, to],
  };
}

async function runEngine(engine: Engine, messages: number, dir: string): Promise<EngineResult> {
  const bareRss = process.memoryUsage().rss;
  let connect: ((path: string) => SqliteConnection) | undefined;
  if (engine === 'better-sqlite3') {
    const c = betterConnect();
    if (typeof c === 'string') throw new Error(c);
    connect = c;
  }
  const uids = new SnowflakeUid(1);
  const cpuUsPerMessage: Record<number, number> = {};
  const wallMsPerCommit: Record<number, number> = {};
  let store: SqliteMessageStore | null = null;
  for (const group of GROUPS) {
    store = await SqliteMessageStore.open({
      path: join(dir, `${engine}-${group}.db`),
      ...(connect ? { connect } : {}),
    });
    // Few commits at group 1: each waits for an fsync.
    const n = group === 1 ? Math.min(messages, 2_000) : messages;
    let i = 0;
    // Warm-up: prepared statements, page cache, JIT.
    for (let w = 0; w < 20; w++)
      await Promise.all(Array.from({ length: group }, () => store?.append(message(uids, i++))));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let commits = 0;
    for (let done = 0; done < n; done += group, commits++) {
      await Promise.all(Array.from({ length: group }, () => store?.append(message(uids, i++))));
    }
    const cpu = process.cpuUsage(cpu0);
    cpuUsPerMessage[group] = (cpu.user + cpu.system) / (commits * group);
    wallMsPerCommit[group] = (performance.now() - t0) / commits;
    if (group !== GROUPS[GROUPS.length - 1]) await store.close();
  }
  // Pull of 100 from a full inbox (every pair's recipient holds messages / 200 of them).
  const s = store as SqliteMessageStore;
  const rounds = 500;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const page = await s.pull(`u${r % 200}b`, 0, 100);
    if (page.entries.length < 100) throw new Error(`pull returned ${page.entries.length}; raise --messages`);
  }
  const pull100Ms = (performance.now() - t0) / rounds;
  const rssMiB = (process.memoryUsage().rss - bareRss) / 2 ** 20;
  await s.close();
  return { engine, cpuUsPerMessage, wallMsPerCommit, pull100Ms, rssMiB };
}

async function main(): Promise<void> {
  const messages = Number(arg('--messages', '30000'));
  const child = arg('--engine', '');
  if (child) {
    const dir = arg('--dir', '');
    process.stdout.write(`${JSON.stringify(await runEngine(child as Engine, messages, dir))}\n`);
    return;
  }
  const dir = mkdtempSync(join(arg('--dir', tmpdir()), 'im-store-bench-'));
  const results: EngineResult[] = [];
  try {
    for (const engine of ['node:sqlite', 'better-sqlite3'] as Engine[]) {
      if (engine === 'better-sqlite3') {
        const c = betterConnect();
        if (typeof c === 'string') {
          process.stdout.write(`better-sqlite3: skipped, ${c}\n`);
          continue;
        }
      }
      process.stderr.write(`${engine}: ${messages} messages a group size...\n`);
      const out = execFileSync(
        process.execPath,
        [
          ...process.execArgv,
          process.argv[1] as string,
          '--engine',
          engine,
          '--messages',
          String(messages),
          '--dir',
          dir,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      );
      results.push(JSON.parse(out) as EngineResult);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const head = `| engine | ${GROUPS.map((g) => `CPU µs/msg @${g}`).join(' | ')} | ${GROUPS.map((g) => `ms/commit @${g}`).join(' | ')} | pull 100 | RSS over bare |`;
  process.stdout.write(`${head}\n|${'---|'.repeat(GROUPS.length * 2 + 3)}\n`);
  for (const r of results) {
    const cpu = GROUPS.map((g) => (r.cpuUsPerMessage[g] ?? 0).toFixed(0));
    const wall = GROUPS.map((g) => (r.wallMsPerCommit[g] ?? 0).toFixed(2));
    process.stdout.write(
      `| ${r.engine} | ${cpu.join(' | ')} | ${wall.join(' | ')} | ${r.pull100Ms.toFixed(2)} ms | ${r.rssMiB.toFixed(0)} MiB |\n`,
    );
  }
}

await main();
