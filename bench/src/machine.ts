/** The machine a figure was measured on, for the report (docs/benchmarks.md asks for it). */
import os from 'node:os';

export interface MachineInfo {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
}

export function machineInfo(): MachineInfo {
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.nproc} CPU (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}, ${m.platform}`;
}
