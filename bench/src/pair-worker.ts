/**
 * One generator process of the pair load (forked by pair-load.ts with an IPC channel): it opens
 * its share of the sender→recipient pairs and, per run, sends open-loop at its share of the
 * offered rate, counts acks and pushes, and reports progress every second and the run's figures
 * at the end. Several of these share the load so the generator is not the bottleneck.
 *
 * Open loop: a 1 ms pacer computes the sends due from the elapsed time and the rate, whatever the
 * server answered; a sender with `maxOutstanding` unanswered sends skips its turn (`skipped@cap`).
 * Body: bytes 0..7 the wall-clock send time (float64, ms since the epoch), 8..11 the run id, so a
 * push is timed by whichever process reads it and a late push of an earlier run is not counted.
 */
import type { Endpoint } from './args.js';
import { LatencyRecorder } from './latency.js';
import type { DriverSpec, OpenPair, PairDriver, PairSink } from './pair-driver.js';
import { ImPairDriver } from './pair-im.js';
import { MqttPairDriver } from './pair-mqtt.js';

export interface OpenTask {
  type: 'open';
  driver: DriverSpec;
  /** Pair indexes [from, from + count); pair i's sender on senderAt[i % n], recipient on recipientAt[i % n]. */
  from: number;
  count: number;
  senderAt: Endpoint[];
  recipientAt: Endpoint[];
  concurrency: number;
  bodyBytes: number;
  maxOutstanding: number;
}

export interface RunTask {
  type: 'run';
  runId: number;
  /** This worker's share of the offered rate, messages per second. */
  rate: number;
  /** Epoch ms at which pacing starts; the measured window is [startAt + warmupMs, + durationMs). */
  startAt: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
}

export type WorkerCommand = OpenTask | RunTask | { type: 'close' };

export interface TickReport {
  type: 'tick';
  runId: number;
  sent: number;
  acked: number;
  delivered: number;
  outstanding: number;
  skipped: number;
  errors: number;
  /** This second's latencies (LatencyRecorder.encode()). */
  ack: string;
  push: string;
}

export interface WorkerRunResult {
  type: 'result';
  runId: number;
  /** Events inside the measured window (by the time they happened). */
  window: { sent: number; acked: number; delivered: number; skipped: number };
  /** Sends made in the window and what became of them by the end of the drain. */
  measured: { sent: number; acked: number; failed: number; delivered: number };
  ack: string;
  push: string;
  errors: Record<string, number>;
  maxPacerLagMs: number;
}

export type WorkerMessage =
  | { type: 'opening'; opened: number }
  | { type: 'opened'; opened: number }
  | { type: 'failed'; error: string }
  | TickReport
  | WorkerRunResult;

const TICK_MS = 1;
const REPORT_MS = 1000;
const KEEPALIVE_MS = 1000;

const epochNow = () => performance.timeOrigin + performance.now();
const post = (m: WorkerMessage) => process.send?.(m);

function makeDriver(spec: DriverSpec): PairDriver {
  return spec.kind === 'im' ? new ImPairDriver(spec.secret, spec.tag) : new MqttPairDriver(spec.tag);
}

/** The counters of the run in progress; the sink below writes into whichever run is current. */
class RunState {
  readonly windowStart: number; // performance.now() scale
  readonly windowEnd: number;
  readonly windowStartEpoch: number;
  readonly windowEndEpoch: number;
  readonly runStart: number;
  readonly win = { sent: 0, acked: 0, delivered: 0, skipped: 0 };
  readonly measured = { sent: 0, acked: 0, failed: 0, delivered: 0 };
  readonly tick = { sent: 0, acked: 0, delivered: 0, skipped: 0, errors: 0 };
  readonly ackHist = new LatencyRecorder();
  readonly pushHist = new LatencyRecorder();
  readonly tickAck = new LatencyRecorder();
  readonly tickPush = new LatencyRecorder();
  readonly errors: Record<string, number> = {};
  maxPacerLagMs = 0;

  constructor(readonly task: RunTask) {
    this.runStart = task.startAt - performance.timeOrigin;
    this.windowStart = this.runStart + task.warmupMs;
    this.windowEnd = this.windowStart + task.durationMs;
    this.windowStartEpoch = task.startAt + task.warmupMs;
    this.windowEndEpoch = this.windowStartEpoch + task.durationMs;
  }

  inWindow(t: number): boolean {
    return t >= this.windowStart && t < this.windowEnd;
  }

  bump(kind: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    this.tick.errors++;
  }
}

let run: RunState | undefined;
let pairs: OpenPair[] = [];
let bodyBytes = 64;
let maxOutstanding = 16;

const sink: PairSink = {
  acked(sentAt) {
    const r = run;
    if (!r || sentAt < r.runStart) return; // a late ack of an earlier run
    const t = performance.now();
    r.tick.acked++;
    r.tickAck.recordMs(t - sentAt);
    if (r.inWindow(t)) r.win.acked++;
    if (r.inWindow(sentAt)) {
      r.measured.acked++;
      r.ackHist.recordMs(t - sentAt);
    }
  },
  failed(sentAt, status) {
    const r = run;
    if (!r || sentAt < r.runStart) return;
    r.bump(status);
    if (r.inWindow(sentAt)) r.measured.failed++;
  },
  pushed(body) {
    const r = run;
    if (!r || !body || body.length < 12) return;
    const view = new DataView(body.buffer, body.byteOffset, 12);
    if (view.getUint32(8) !== r.task.runId) return;
    const sentAt = view.getFloat64(0);
    const now = epochNow();
    r.tick.delivered++;
    r.tickPush.recordMs(now - sentAt);
    if (r.inWindow(performance.now())) r.win.delivered++;
    if (sentAt >= r.windowStartEpoch && sentAt < r.windowEndEpoch) {
      r.measured.delivered++;
      r.pushHist.recordMs(now - sentAt);
    }
  },
  error(kind) {
    run?.bump(kind);
  },
};

async function open(task: OpenTask): Promise<void> {
  bodyBytes = task.bodyBytes;
  maxOutstanding = task.maxOutstanding;
  const driver = makeDriver(task.driver);
  const out: OpenPair[] = new Array(task.count);
  let next = 0;
  let opened = 0;
  let lastReport = 0;
  const worker = async () => {
    while (next < task.count) {
      const i = next++;
      const index = task.from + i;
      out[i] = await driver.openPair(
        index,
        task.senderAt[index % task.senderAt.length] as Endpoint,
        task.recipientAt[index % task.recipientAt.length] as Endpoint,
        sink,
      );
      opened++;
      const t = Date.now();
      if (t - lastReport >= 250) {
        lastReport = t;
        post({ type: 'opening', opened });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(task.concurrency, task.count) }, worker));
  pairs = out;
  setInterval(() => {
    const t = performance.now();
    for (const p of pairs) p.keepAlive(t);
  }, KEEPALIVE_MS).unref();
  post({ type: 'opened', opened });
}

async function runOnce(task: RunTask): Promise<void> {
  const r = new RunState(task);
  run = r;
  const scratch = new Uint8Array(bodyBytes);
  const view = new DataView(scratch.buffer);
  view.setUint32(8, task.runId);
  let rr = 0;
  let issued = 0;
  const nextSender = () => {
    for (let k = 0; k < pairs.length; k++) {
      const p = pairs[rr] as OpenPair;
      rr = rr + 1 === pairs.length ? 0 : rr + 1;
      if (!p.sender.dead && p.sender.outstanding < maxOutstanding) return p;
    }
    return undefined;
  };

  await sleep(Math.max(0, r.runStart - performance.now()));
  const pacer = setInterval(() => {
    const t = performance.now();
    if (t >= r.windowEnd) return;
    const due = Math.floor(((t - r.runStart) / 1000) * task.rate) - issued;
    if (due <= 0) return;
    const lag = t - (r.runStart + ((issued + 1) / task.rate) * 1000);
    if (lag > r.maxPacerLagMs) r.maxPacerLagMs = lag;
    for (let k = 0; k < due; k++) {
      issued++;
      const p = nextSender();
      // One clock reading per send: the body's timestamp, the ack's start and the window test agree.
      const at = performance.now();
      const inWin = r.inWindow(at);
      if (!p) {
        r.tick.skipped++;
        if (inWin) r.win.skipped++;
        continue;
      }
      view.setFloat64(0, performance.timeOrigin + at);
      p.sender.send(scratch, at);
      r.tick.sent++;
      if (inWin) {
        r.win.sent++;
        r.measured.sent++;
      }
    }
  }, TICK_MS);
  const reporter = setInterval(() => report(r), REPORT_MS);

  await sleep(Math.max(0, r.windowEnd - performance.now()));
  clearInterval(pacer);
  // Drain: the acks and pushes of the window's sends, bounded in time.
  const deadline = performance.now() + task.drainMs;
  while (performance.now() < deadline) {
    const answered = r.measured.acked + r.measured.failed;
    if (answered >= r.measured.sent && r.measured.delivered >= r.measured.acked) break;
    await sleep(20);
  }
  clearInterval(reporter);
  report(r);
  post({
    type: 'result',
    runId: task.runId,
    window: { ...r.win },
    measured: { ...r.measured },
    ack: r.ackHist.encode(),
    push: r.pushHist.encode(),
    errors: { ...r.errors },
    maxPacerLagMs: r.maxPacerLagMs,
  });
}

function report(r: RunState): void {
  post({
    type: 'tick',
    runId: r.task.runId,
    ...r.tick,
    outstanding: pairs.reduce((a, p) => a + p.sender.outstanding, 0),
    ack: r.tickAck.encode(),
    push: r.tickPush.encode(),
  });
  r.tick.sent = r.tick.acked = r.tick.delivered = r.tick.skipped = r.tick.errors = 0;
  r.tickAck.reset();
  r.tickPush.reset();
}

function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}

// One command at a time, in order: open, then runs, then close.
let queue: Promise<void> = Promise.resolve();
process.on('message', (cmd: WorkerCommand) => {
  queue = queue.then(async () => {
    try {
      if (cmd.type === 'open') await open(cmd);
      else if (cmd.type === 'run') await runOnce(cmd);
      else {
        for (const p of pairs) p.close();
        setTimeout(() => process.exit(0), 300);
      }
    } catch (err) {
      post({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
      setTimeout(() => process.exit(1), 100);
    }
  });
});
