// Kafka readiness probe with no dependency (start.sh may run before `pnpm install`):
// one Metadata v4 request over a raw socket; ready when the broker answers and lists at least
// one broker, i.e. KRaft has elected the controller and the broker has registered.
// Usage: node ready.mjs 127.0.0.1:59092   (exit 0 = ready)
import net from 'node:net';

const METADATA_API_KEY = 3;
const METADATA_VERSION = 4; // non-flexible, still served by Kafka 4.x (KIP-896 kept it)
const CORRELATION_ID = 7;
const CLIENT_ID = 'im-infra-probe';

function request() {
  const client = Buffer.from(CLIENT_ID);
  // header: api_key i16, api_version i16, correlation_id i32, client_id (i16 length + bytes)
  // body:   topics array i32 (-1 = all), allow_auto_topic_creation i8
  const size = 2 + 2 + 4 + 2 + client.length + 4 + 1;
  const buf = Buffer.alloc(4 + size);
  let o = buf.writeInt32BE(size, 0);
  o = buf.writeInt16BE(METADATA_API_KEY, o);
  o = buf.writeInt16BE(METADATA_VERSION, o);
  o = buf.writeInt32BE(CORRELATION_ID, o);
  o = buf.writeInt16BE(client.length, o);
  o += client.copy(buf, o);
  o = buf.writeInt32BE(-1, o);
  buf.writeInt8(0, o);
  return buf;
}

const [host, port] = (process.argv[2] ?? '127.0.0.1:59092').split(':');
const socket = net.connect({ host, port: Number(port) });
const chunks = [];
const fail = (why) => {
  console.error(`kafka not ready: ${why}`);
  socket.destroy();
  process.exit(1);
};
socket.setTimeout(3000, () => fail('timeout'));
socket.on('error', (err) => fail(err.message));
socket.on('connect', () => socket.write(request()));
socket.on('data', (chunk) => {
  chunks.push(chunk);
  const all = Buffer.concat(chunks);
  if (all.length < 4 || all.length < 4 + all.readInt32BE(0)) return;
  // response: size i32, correlation_id i32, throttle_time_ms i32, brokers array count i32, ...
  if (all.readInt32BE(4) !== CORRELATION_ID) fail('unexpected correlation id');
  const brokers = all.readInt32BE(12);
  if (brokers < 1) fail('no broker registered yet');
  socket.end();
  process.exit(0);
});
