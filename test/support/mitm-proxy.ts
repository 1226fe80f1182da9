/**
 * An attacker on the path (docs/security.md §1): a TCP proxy between a client and the server that
 * relays whole frames both ways and can write frames of its own to the client, between two of the
 * server's, or hold back the server's answer to a request. It has no key: what it writes on an
 * encrypted connection is plaintext, which is what protocol.md §2 says the client must refuse.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  encodeFrame,
  Flow,
  type Frame,
  FrameDecoder,
  PROTOCOL_VERSION,
  unpackFlag,
} from '../../packages/protocol/src/index.js';

export type ForgedFrame = Omit<Frame, 'version'>;

interface Pair {
  client: Socket;
  server: Socket;
}

export class MitmProxy {
  /** Headers of every client request relayed (the newest connection's last). */
  readonly requests: Frame[] = [];
  /** Called for each client request before it is relayed. */
  onRequest: ((req: Frame) => void) | null = null;
  private readonly heldAnswers = new Set<number>();
  private current: Pair | null = null;
  private readonly pairs = new Set<Pair>();

  private constructor(
    private readonly listener: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<MitmProxy> {
    let proxy: MitmProxy | undefined;
    const listener = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    proxy = new MitmProxy(listener, address.port);
    return proxy;
  }

  /** The server's answer to the request with this seq (on the newest connection) is not relayed. */
  holdAnswer(seq: number): void {
    this.heldAnswers.add(seq);
  }

  /** Writes a forged frame to the newest client, between two whole frames of the server. */
  toClient(frame: ForgedFrame): void {
    const pair = this.current;
    if (!pair) throw new Error('no client connected through the proxy');
    for (const chunk of encodeFrame({ version: PROTOCOL_VERSION, ...frame })) pair.client.write(chunk);
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.server.destroy();
    }
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    const server = connect(targetPort, '127.0.0.1');
    const pair = { client, server };
    this.pairs.add(pair);
    this.current = pair;
    this.heldAnswers.clear();
    const fromClient = new FrameDecoder({ maxBodyLength: 64 * 1024 * 1024 });
    const fromServer = new FrameDecoder({ maxBodyLength: 64 * 1024 * 1024 });
    const relay = (frames: Frame[], to: Socket) => {
      for (const f of frames) for (const chunk of encodeFrame(f)) to.write(chunk);
    };
    client.on('data', (chunk: Buffer) => {
      const frames = fromClient.push(new Uint8Array(chunk));
      for (const f of frames) {
        this.requests.push(f);
        this.onRequest?.(f);
      }
      relay(frames, server);
    });
    server.on('data', (chunk: Buffer) => {
      const frames = fromServer
        .push(new Uint8Array(chunk))
        .filter((f) => !(unpackFlag(f.flag).flow === Flow.RESPONSE && this.heldAnswers.has(f.seq)));
      relay(frames, client);
    });
    const end = () => {
      client.destroy();
      server.destroy();
      this.pairs.delete(pair);
    };
    for (const s of [client, server]) {
      s.on('close', end);
      s.on('error', end);
    }
  }
}
