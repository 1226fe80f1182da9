/**
 * Certificates for the gRPC mTLS tests (docs/security.md, Internal traffic), made at test time with
 * the openssl command line: a cluster CA, one certificate it signs for the services (names
 * localhost, 127.0.0.1 and `im-internal`; usable as server and as client), and a stranger's CA with
 * a certificate of its own. ECDSA P-256 keys, so making them takes milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  certFile: string;
  keyFile: string;
}

export interface MtlsCerts {
  dir: string;
  caFile: string;
  /** Signed by caFile: every service's certificate. */
  service: CertPair;
  /** A certificate of another CA (strangerCaFile): a client the cluster must refuse. */
  stranger: CertPair;
  strangerCaFile: string;
  remove(): void;
}

const EC_KEY = [
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:prime256v1',
  '-nodes',
  '-sha256',
  '-days',
  '1',
];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...EC_KEY, '-subj', `/CN=${name}`, '-keyout', key, '-out', cert]);
  return { cert, key };
}

function makeSigned(dir: string, name: string, ca: { cert: string; key: string }): CertPair {
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    'subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:im-internal\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  openssl(['req', ...EC_KEY, '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', csr]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '1',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile };
}

export function makeMtlsCerts(): MtlsCerts {
  const dir = mkdtempSync(join(tmpdir(), 'im-mtls-'));
  const ca = makeCa(dir, 'im-cluster-ca');
  const other = makeCa(dir, 'stranger-ca');
  return {
    dir,
    caFile: ca.cert,
    service: makeSigned(dir, 'im-internal', ca),
    stranger: makeSigned(dir, 'stranger', other),
    strangerCaFile: other.cert,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
