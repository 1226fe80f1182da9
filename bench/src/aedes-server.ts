/**
 * aedes (the Node MQTT broker) as the bench's peer, in a process of its own: in-memory
 * persistence and pub/sub (aedes' defaults), plain TCP with TCP_NODELAY on
 * BENCH_AEDES_HOST:BENCH_AEDES_PORT.
 * Started by peer-servers.ts; SIGTERM closes it.
 */
import net from 'node:net';
import { Aedes } from 'aedes';

const host = process.env.BENCH_AEDES_HOST ?? '127.0.0.1';
const port = Number(process.env.BENCH_AEDES_PORT);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write(`BENCH_AEDES_PORT must be a TCP port, got "${process.env.BENCH_AEDES_PORT}"\n`);
  process.exit(2);
}

const broker = await Aedes.createBroker();
// TCP_NODELAY as on the IM edge (services/edge/src/listeners.ts) and the bench's Mosquitto.
const server = net.createServer({ noDelay: true }, broker.handle);
server.listen(port, host, () => process.stdout.write(`aedes listening on ${host}:${port}\n`));
process.once('SIGTERM', () => {
  server.close();
  broker.close(() => process.exit(0));
});
