import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export type MachineInfo = { date: string; cpus: number; cpuModel: string; memoryGiB: number; node: string; natsServer: string; os: string };

function natsServerVersion(binary: string): string {
  try {
    // It prints "nats-server: v2.9.10".
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim().replace(/^nats-server:\s*/, '');
  } catch {
    return 'unknown';
  }
}

/** Describe the machine a benchmark ran on. */
export function describeMachine(natsServerBinary: string): MachineInfo {
  return {
    date: new Date().toISOString(),
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    natsServer: natsServerVersion(natsServerBinary),
    os: `${os.type()} ${os.release()}`,
  };
}

/** Resident set size of a process in MB (10^6 bytes), read from /proc (Linux). Undefined when it has exited. */
export function residentMemoryMB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}
