/**
 * `pnpm bench:peers`: the cluster bench's pair load (same generator, same pairs, same body)
 * against the embedded server, aedes and Mosquitto, one after the other in one run. Per server and
 * offered rate: the server process's CPU µs per delivered message, delivered/s, send→ack and
 * send→push p50/p99. The MQTT equivalent of MS / SendAck / MPS is in pair-mqtt.ts.
 */
import { PEERS_BENCH_USAGE, type PeerServer, parsePeersBenchArgs } from './pair-args.js';
import { exitWith, log, parseOrUsage, runPairBench, type System } from './pair-bench.js';
import { startPeer } from './peer-servers.js';
import { runTag } from './session.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opts = parseOrUsage(argv, PEERS_BENCH_USAGE, () => parsePeersBenchArgs(argv));
  if (typeof opts === 'number') return opts;
  await runPairBench({
    name: 'peers',
    placement: 'on one server',
    opts,
    shownOptions: opts,
    systems: opts.servers.map((name) => () => peer(name)),
  });
  return 0;
}

async function peer(name: PeerServer): Promise<System> {
  log(`\n${name}: starting ...`);
  const server = await startPeer(name);
  log(`${server.version}: pid ${server.pid} on ${server.host}:${server.port}`);
  const tag = runTag();
  const at = { host: server.host, port: server.port };
  return {
    label: name,
    driver:
      name === 'embedded' || name === 'memory'
        ? { kind: 'im', secret: server.secret as string, tag }
        : { kind: 'mqtt', tag },
    senderAt: at,
    recipientAt: at,
    targets: [{ name: 'server', pids: [server.pid], tree: true }],
    describe: server.version,
    stop: () => server.stop(),
  };
}

exitWith('bench:peers', main());
