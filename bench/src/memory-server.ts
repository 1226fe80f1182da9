/**
 * A bench-only server process: the embedded composition (services/embedded/src/server.ts: one
 * edge, MessageService, PresenceService, in-memory routes/bus/groups) with the in-memory
 * MessageStore instead of SQLite. NOT durable, so never a product mode: it exists to separate the
 * cost of the edge and services from the cost of the embedded database (docs/benchmarks.md
 * "Where the time goes"), and to measure idle connections without the database's share of RSS.
 * Reads the same environment as the embedded main (IM_JWT_SECRET, IM_EDGE_HOST, IM_EDGE_PORT).
 */
import { createLogger, Hs256Verifier, loadConfig, MemoryMessageStore } from '@im/core';
import { createEdge } from '@im/edge';
import { inProcessServices } from './in-process.js';

async function main(): Promise<void> {
  // Embedded mode's defaults (config.ts EMBEDDED_DEFAULTS: no fan-out linger in one process).
  const config = loadConfig(process.env, {}, 'embedded');
  const nodeId = config.nodeId || 'bench-memory-1';
  const logger = createLogger(nodeId, config);
  if (!config.auth.jwtSecret) throw new Error('IM_JWT_SECRET is required');
  const { routes, bus, message, presence } = inProcessServices(config, logger, new MemoryMessageStore());
  const edge = createEdge({
    config,
    nodeId,
    message,
    presence,
    bus,
    verifier: new Hs256Verifier(config.auth.jwtSecret),
    logger,
  });
  await edge.listen();
  const stop = async () => {
    await edge.drain(config.edge.drainGraceMs);
    await edge.close();
    await message.close();
    await bus.close();
    await routes.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err) => {
  process.stderr.write(`bench memory server failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
