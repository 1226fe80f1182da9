/** How a long-running command (`im listen`, `im chat`) learns that its session is over. */
import { type ImClient, KickedError } from '@im/client';
import { describe } from './describe.js';
import { CliError, type Io } from './io.js';

/**
 * Resolves on the abort signal (Ctrl-C); rejects when the session ends for good (kicked, token
 * refused); reports a disconnect the SDK is recovering from on stderr.
 */
export function untilSessionEnd(client: ImClient, io: Io): Promise<void> {
  return new Promise((resolve, reject) => {
    const { signal } = io;
    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
    client.on('kicked', (err) =>
      reject(new CliError(`kicked: ${err.reason || 'this device logged in elsewhere'}`)),
    );
    client.on('disconnect', (reason) => {
      if (client.state === 'reconnecting') io.err(`disconnected: ${describe(reason)} — reconnecting`);
      else if (!(reason instanceof KickedError)) reject(new CliError(`disconnected: ${describe(reason)}`));
    });
    // The SDK gives up reconnecting only when the server refuses the token.
    client.on('error', (err) => {
      if (client.state === 'closed') reject(new CliError(describe(err)));
    });
  });
}
