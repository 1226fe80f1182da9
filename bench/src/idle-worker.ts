/**
 * One client process of idle.ts (forked with an IPC channel): opens its share of the idle users,
 * reports progress, keeps them alive with PINGs (protocol.md §6 Heartbeat), and closes them when
 * told. Several of these share the connections because each socket is a file descriptor here too.
 */
import { Command } from '@im/protocol';
import type { Endpoint } from './args.js';
import { type OpenedUser, openMany } from './session.js';

export interface IdleWorkerTask {
  targets: Endpoint[];
  secret: string;
  tag: string;
  from: number;
  count: number;
  concurrency: number;
}

export type IdleWorkerMessage =
  | { type: 'progress'; opened: number }
  | { type: 'ready'; opened: number }
  | { type: 'failed'; error: string };

const send = (m: IdleWorkerMessage) => process.send?.(m);

async function run(task: IdleWorkerTask): Promise<void> {
  let lastReport = 0;
  let users: OpenedUser[];
  try {
    users = await openMany({
      ...task,
      onProgress: (opened) => {
        const t = Date.now();
        if (t - lastReport >= 250) {
          lastReport = t;
          send({ type: 'progress', opened });
        }
      },
    });
  } catch (err) {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
  send({ type: 'ready', opened: users.length });

  // Each user pings once per heartbeatSeconds / 2, spread over the period so the edge sees no bursts.
  const hbMs = Math.max(1, users[0]?.login.heartbeatSeconds ?? 30) * 1000;
  const tickMs = 1000;
  const slices = Math.max(1, Math.floor(hbMs / 2 / tickMs));
  let slice = 0;
  const pinger = setInterval(() => {
    for (let i = slice; i < users.length; i += slices) {
      const u = users[i] as OpenedUser;
      if (!u.conn.closed) u.conn.send(Command.PING);
    }
    slice = (slice + 1) % slices;
  }, tickMs);

  let closedByServer = 0;
  for (const u of users) u.conn.on('close', () => closedByServer++);

  process.on('message', (m: { type: string }) => {
    if (m.type !== 'close') return;
    clearInterval(pinger);
    const lost = closedByServer;
    for (const u of users) u.conn.close();
    setTimeout(() => {
      process.stderr.write(
        lost > 0 ? `worker ${task.from}: ${lost} connections were closed by the server\n` : '',
      );
      process.exit(0);
    }, 500);
  });
}

process.once('message', (task: IdleWorkerTask) => {
  void run(task);
});
