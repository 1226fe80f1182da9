/**
 * A self-signed certificate for 127.0.0.1 / localhost, generated at test time with `openssl req
 * -x509` (protocol.md §2 Transport security tests). Files live in a temp dir the caller removes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  dir: string;
  certFile: string;
  keyFile: string;
  certPem: string;
}

export async function makeTestCert(): Promise<TestCert> {
  const dir = await mkdtemp(join(tmpdir(), 'im-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { dir, certFile, keyFile, certPem: await readFile(certFile, 'utf8') };
}
