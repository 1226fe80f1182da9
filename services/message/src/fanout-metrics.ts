/**
 * The fan-out queue on /metrics (deploy/grafana, deploy/prometheus): read at scrape time from the
 * MessageService, nothing on the send path.
 *   im_fanout_queue_depth      accepted messages waiting to be handed to the bus (a slow Kafka or
 *                              Redis shows here first)
 *   im_fanout_dropped_total    messages that overflowed the full queue: stored ones went out as MN
 *                              (recipients pull them), transient ones (TYPING, chatroom) were dropped
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export const FANOUT_DEPTH_METRIC = 'im_fanout_queue_depth';
export const FANOUT_DROPPED_METRIC = 'im_fanout_dropped_total';

export function registerFanoutMetrics(
  registry: Registry,
  stats: () => { queued: number; dropped: number },
): void {
  new Gauge({
    name: FANOUT_DEPTH_METRIC,
    help: 'Accepted messages waiting in the fan-out queue of this message service.',
    registers: [registry],
    collect() {
      this.set(stats().queued);
    },
  });
  // A total the queue keeps itself: exposed as a counter set at scrape time.
  new Counter({
    name: FANOUT_DROPPED_METRIC,
    help: 'Messages that overflowed the full fan-out queue: stored ones were announced by MN (recipients pull), transient ones dropped.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats().dropped);
    },
  });
}
