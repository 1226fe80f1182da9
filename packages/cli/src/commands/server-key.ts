/** `im server-key [--server-key FILE]`: prints the server's RSA public key (PEM) and its fingerprint. */
import type { CommandContext } from '../cli.js';
import { UsageError } from '../io.js';
import { findServerKey, fingerprint } from '../server-key.js';

export async function serverKey({ flags, positionals, env, io }: CommandContext): Promise<void> {
  if (positionals.length > 0) throw new UsageError('server-key takes no arguments');
  const { publicKey, source } = await findServerKey(flags['server-key'], env);
  io.out(publicKey.export({ format: 'pem', type: 'spki' }).toString().trimEnd());
  io.err(`sha256 fingerprint ${fingerprint(publicKey)} (from ${source})`);
}
