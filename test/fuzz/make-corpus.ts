/**
 * Writes the seed corpus (test/fuzz/corpus/*.hex): one file per case, `#` comment lines, then the
 * bytes to write as hex (one or more lines, written in order). `# phase: after-login` files are
 * replayed on a logged-in connection. Run: `pnpm exec tsx test/fuzz/make-corpus.ts`.
 * The soak script mutates these; corpus.test.ts replays them and checks the server's answers.
 */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Command, codec, Encrypt, Flow, frameToBytes, packFlag } from '../../packages/protocol/src/index.js';
import { bytesToHex } from '../../packages/protocol/test/vectors/index.js';
import { rawHeader } from '../support/raw-client.js';

interface Seed {
  name: string;
  about: string;
  phase: 'before-login' | 'after-login';
  frames: Uint8Array[];
}

const f = (command: number, body: Uint8Array = new Uint8Array(0), flag = 0, seq = 7) =>
  frameToBytes({ seq, command, flag, status: 0, body });
const msg = (over: object = {}) =>
  codec.Message.encode({
    messageId: 1n,
    conversation: { type: 0, target: 'corpus-peer' },
    messageContent: { contentType: 1, searchableContent: 'hi', data: new TextEncoder().encode('hi') },
    ...over,
  });
const gz = packFlag({ flow: Flow.REQUEST, compression: 1 });

const seeds: Seed[] = [
  { name: 'ping', about: 'PING, empty body', phase: 'after-login', frames: [f(Command.PING)] },
  { name: 'ms-text', about: 'MS with a TEXT message', phase: 'after-login', frames: [f(Command.MS, msg())] },
  {
    name: 'ms-empty',
    about: 'MS with an empty body (BAD_REQUEST)',
    phase: 'after-login',
    frames: [f(Command.MS)],
  },
  {
    name: 'ms-gzip',
    about: 'MS, gzip body',
    phase: 'after-login',
    frames: [f(Command.MS, gzipSync(msg()), gz)],
  },
  {
    name: 'ms-e2e-leak',
    about: 'E2E MS with searchableContent (BAD_REQUEST)',
    phase: 'after-login',
    frames: [f(Command.MS, msg(), packFlag({ encrypt: Encrypt.E2E }))],
  },
  {
    name: 'ms-group-unknown',
    about: 'MS to a group that does not exist',
    phase: 'after-login',
    frames: [f(Command.MS, msg({ conversation: { type: 1, target: 'no-such-group' } }))],
  },
  {
    name: 'ms-conv-type-99',
    about: 'MS with an undefined conversation type',
    phase: 'after-login',
    frames: [f(Command.MS, msg({ conversation: { type: 99, target: 'x' } }))],
  },
  {
    name: 'mp-inbox',
    about: 'MP inbox pull',
    phase: 'after-login',
    frames: [f(Command.MP, codec.PullRequest.encode({ since: 0, limit: 5 }))],
  },
  {
    name: 'mp-history-huge-limit',
    about: 'MP history with a limit past the cap',
    phase: 'after-login',
    frames: [
      f(
        Command.MP,
        codec.PullRequest.encode({
          limit: 0xffffffff,
          conversation: { type: 0, target: 'p' },
          beforeUid: 2n ** 64n - 1n,
        }),
      ),
    ],
  },
  {
    name: 'mr-unknown',
    about: 'MR of a uid that does not exist',
    phase: 'after-login',
    frames: [f(Command.MR, codec.RecallRequest.encode({ messageUid: 12345n }))],
  },
  {
    name: 'crj-unknown',
    about: 'CRJ of an unknown chatroom',
    phase: 'after-login',
    frames: [f(Command.CRJ, codec.ChatroomRequest.encode({ chatroomId: 'nope' }))],
  },
  { name: 'crq-empty', about: 'CRQ with an empty body', phase: 'after-login', frames: [f(Command.CRQ)] },
  {
    name: 'mn-from-client',
    about: 'MN from a client (BAD_REQUEST)',
    phase: 'after-login',
    frames: [f(Command.MN)],
  },
  {
    name: 'mps-from-client',
    about: 'MPS from a client (BAD_REQUEST)',
    phase: 'after-login',
    frames: [f(Command.MPS, msg())],
  },
  {
    name: 'reserved-command',
    about: 'command 0 and 200 (UNSUPPORTED)',
    phase: 'after-login',
    frames: [f(0), f(200, new Uint8Array([1, 2, 3]), 0, 8)],
  },
  {
    name: 'flow-response',
    about: 'a frame with flow = 1 (BAD_REQUEST)',
    phase: 'after-login',
    frames: [f(Command.PING, undefined, 1)],
  },
  {
    name: 'compression-3',
    about: 'compression 3 (UNSUPPORTED)',
    phase: 'after-login',
    frames: [f(Command.PING, undefined, packFlag({ compression: 3 }))],
  },
  {
    name: 'aes-no-session',
    about: 'AES before a session key (UNSUPPORTED)',
    phase: 'after-login',
    frames: [f(Command.PING, new Uint8Array(40), packFlag({ encrypt: Encrypt.AES }))],
  },
  {
    name: 'rsa-garbage-login',
    about: 'RSA LOGIN with garbage (BAD_REQUEST, close)',
    phase: 'before-login',
    frames: [
      f(Command.LOGIN, new Uint8Array([1, 0, ...new Array(300).fill(7)]), packFlag({ encrypt: Encrypt.RSA })),
    ],
  },
  {
    name: 'login-garbage',
    about: 'LOGIN with a non-protobuf body',
    phase: 'before-login',
    frames: [f(Command.LOGIN, new Uint8Array([0xff, 0xff, 0xff, 0x0f]))],
  },
  {
    name: 'login-no-token',
    about: 'LOGIN without a token (UNAUTHORIZED)',
    phase: 'before-login',
    frames: [f(Command.LOGIN, codec.LoginRequest.encode({ userId: 'u', deviceId: 'd' }))],
  },
  {
    name: 'ms-before-login',
    about: 'MS before LOGIN (UNAUTHORIZED)',
    phase: 'before-login',
    frames: [f(Command.MS, msg())],
  },
  {
    name: 'nested-groups',
    about: '64 nested unknown groups in an MS body (BAD_REQUEST: depth)',
    phase: 'after-login',
    frames: [f(Command.MS, new Uint8Array([...new Array(64).fill(0x7b), ...new Array(64).fill(0x7c)]))],
  },
  {
    name: 'gzip-bomb',
    about: 'a gzip body that inflates past the limit (FRAME_TOO_LARGE, close)',
    phase: 'after-login',
    frames: [f(Command.MS, gzipSync(new Uint8Array(8 * 1024 * 1024)), gz)],
  },
  {
    name: 'gzip-not-gzip',
    about: 'compression 1 over bytes that are not gzip',
    phase: 'after-login',
    frames: [f(Command.MP, new Uint8Array([1, 2, 3]), gz)],
  },
  {
    name: 'length-too-large',
    about: 'a header announcing 4 GiB (FRAME_TOO_LARGE, close)',
    phase: 'after-login',
    frames: [rawHeader({ length: 0xffffffff, seq: 9, command: Command.MS, flag: 0 })],
  },
  {
    name: 'version-2',
    about: 'version 2 (UNSUPPORTED, close)',
    phase: 'after-login',
    frames: [rawHeader({ length: 0, version: 2, seq: 9, command: Command.PING, flag: 0 })],
  },
  {
    name: 'reserved-bits',
    about: 'reserved flag bits (closed, no answer)',
    phase: 'after-login',
    frames: [rawHeader({ length: 0, seq: 9, command: Command.PING, flag: 0xc0 })],
  },
  {
    name: 'http-get',
    about: 'an HTTP request on the IM port (closed)',
    phase: 'before-login',
    frames: [new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
  },
  {
    name: 'tls-hello',
    about: 'the start of a TLS ClientHello (closed)',
    phase: 'before-login',
    frames: [new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x00])],
  },
  { name: 'logout', about: 'LOGOUT (no answer, close)', phase: 'after-login', frames: [f(Command.LOGOUT)] },
  {
    name: 'pipelined-mixed',
    about: 'several frames in one write, some bad',
    phase: 'after-login',
    frames: [
      Buffer.concat([
        f(Command.PING, undefined, 0, 20),
        f(99, undefined, 0, 21),
        f(Command.MS, new Uint8Array([0x0a]), 0, 22),
        f(Command.PING, undefined, 0, 23),
      ]),
    ],
  },
];

for (const s of seeds) {
  const text = [`# ${s.about}`, `# phase: ${s.phase}`, ...s.frames.map((b) => bytesToHex(b))].join('\n');
  writeFileSync(new URL(`./corpus/${s.name}.hex`, import.meta.url), `${text}\n`);
}
console.log(`wrote ${seeds.length} corpus files`);
