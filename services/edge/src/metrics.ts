/**
 * What an edge node reports on /metrics (prom-client; issue item 6). The edge's code only calls
 * the EdgeMetrics methods; NOOP_EDGE_METRICS is the default, so tests and embedded mode need nothing.
 *
 * Labels stay bounded: a command label is the contract's name (protocol.md §4) or `UNKNOWN` for
 * any other number a client sends; a status label is the server's own status name (§3).
 */
import { commandName, isKnownCommand, statusName } from '@im/protocol';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface EdgeMetrics {
  /** A frame decoded from a client (counted before any check). */
  frameIn(command: number): void;
  /** A frame written to a client: responses and notifies. */
  frameOut(command: number, status: number): void;
  /** MS received → SendAck written (status OK only). */
  sendAck(seconds: number): void;
  /** A message delivery handled on this node: message serverTime → MPS written. */
  pushed(serverTime: number): void;
  /** Deliveries taken from the bus (Kafka), by kind. */
  consumed(kind: string, n: number): void;
  /** MN sent by the head sync to connections a push never reached (head-sync.ts). */
  headSyncNotified(n: number): void;
}

export const NOOP_EDGE_METRICS: EdgeMetrics = {
  frameIn() {},
  frameOut() {},
  sendAck() {},
  pushed() {},
  consumed() {},
  headSyncNotified() {},
};

/** Live values read at scrape time (collect()), not pushed by the hot path. */
export interface EdgeGauges {
  /** Open sockets. */
  connections(): number;
  /** Bytes read from / written to client sockets since start, closed sockets included. */
  bytesIn(): number;
  bytesOut(): number;
}

export const EDGE_METRIC_NAMES = {
  connections: 'im_edge_connections',
  framesIn: 'im_edge_frames_in_total',
  framesOut: 'im_edge_frames_out_total',
  sendAck: 'im_edge_send_ack_seconds',
  push: 'im_edge_push_seconds',
  bytesIn: 'im_edge_bytes_in_total',
  bytesOut: 'im_edge_bytes_out_total',
  kafkaConsume: 'im_kafka_consume_total',
  headSync: 'im_edge_head_sync_notifies_total',
} as const;

/** Latency buckets from 1 ms to 5 s (send→ack and send→push both land in this range). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const label = (command: number) => (isKnownCommand(command) ? commandName(command) : 'UNKNOWN');

export function createEdgeMetrics(registry: Registry, gauges: EdgeGauges): EdgeMetrics {
  const registers = [registry];
  new Gauge({
    name: EDGE_METRIC_NAMES.connections,
    help: 'Client connections open on this edge node (logged in or not).',
    registers,
    collect() {
      this.set(gauges.connections());
    },
  });
  // Monotonic totals kept by the sockets themselves; exposed as counters set at scrape time.
  for (const [name, help, read] of [
    [EDGE_METRIC_NAMES.bytesIn, 'Bytes read from client sockets.', gauges.bytesIn],
    [EDGE_METRIC_NAMES.bytesOut, 'Bytes written to client sockets.', gauges.bytesOut],
  ] as const) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
  const framesIn = new Counter({
    name: EDGE_METRIC_NAMES.framesIn,
    help: 'Frames received from clients, by command.',
    labelNames: ['command'],
    registers,
  });
  const framesOut = new Counter({
    name: EDGE_METRIC_NAMES.framesOut,
    help: 'Frames written to clients (responses and notifies), by command and status.',
    labelNames: ['command', 'status'],
    registers,
  });
  const sendAck = new Histogram({
    name: EDGE_METRIC_NAMES.sendAck,
    help: 'MS received to SendAck written (successful sends), in seconds.',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const push = new Histogram({
    name: EDGE_METRIC_NAMES.push,
    help: 'Message serverTime to MPS written on this node, in seconds (clocks of the message service and edge).',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const consume = new Counter({
    name: EDGE_METRIC_NAMES.kafkaConsume,
    help: 'Deliveries consumed from this node topic, by kind (message, notify, room, kick).',
    labelNames: ['kind'],
    registers,
  });
  const headSync = new Counter({
    name: EDGE_METRIC_NAMES.headSync,
    help: 'MN sent by the head sync: connections that missed a push (an outage of the route store, bus or message service).',
    registers,
  });
  return {
    frameIn: (command) => framesIn.inc({ command: label(command) }),
    frameOut: (command, status) => framesOut.inc({ command: label(command), status: statusName(status) }),
    sendAck: (seconds) => sendAck.observe(seconds),
    // Clocks of two hosts: a negative difference is recorded as 0.
    pushed: (serverTime) => push.observe(Math.max(0, Date.now() - serverTime) / 1000),
    consumed: (kind, n) => consume.inc({ kind }, n),
    headSyncNotified: (n) => headSync.inc(n),
  };
}
