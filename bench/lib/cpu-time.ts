import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat, which is 100 on Linux (USER_HZ). */
const CLOCK_TICKS_PER_SECOND = 100;

/** User plus system CPU time of a process so far, in microseconds, from /proc/<pid>/stat (Linux). */
export async function cpuTimeUs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The fields start after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}
