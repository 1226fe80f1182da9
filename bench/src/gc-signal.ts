/**
 * Preloaded into the server process the bench starts (`node --expose-gc --import gc-signal.ts`):
 * on SIGUSR2 it runs full GCs and writes process.memoryUsage() to $BENCH_MEM_FILE, so idle.ts can
 * sample the edge's memory after a GC without any hook in the server's own code. A `%p` in the
 * file name becomes the process id, so the edges of a cluster (one NODE_OPTIONS for all) write
 * files of their own.
 */
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.BENCH_MEM_FILE?.replaceAll('%p', String(process.pid));
const gc = (globalThis as { gc?: () => void }).gc;

if (file) {
  process.on('SIGUSR2', () => {
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    // Written aside and renamed, so the reader never sees half a file. A failure to write (the
    // bench's directory gone) is the bench's problem: it must never take the server down.
    try {
      writeFileSync(
        `${file}.tmp`,
        JSON.stringify({
          heapUsed: m.heapUsed,
          heapTotal: m.heapTotal,
          external: m.external,
          arrayBuffers: m.arrayBuffers,
        }),
      );
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      process.stderr.write(`gc-signal: cannot write ${file}: ${(err as Error).message}\n`);
    }
  });
}
