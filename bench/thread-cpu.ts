// CPU time of the process's main thread alone (Linux: /proc/self/task/<pid>/stat), in µs; undefined
// elsewhere. process.cpuUsage() adds V8's helper threads and the node's other threads, which run on
// the same two cores as the database: the main thread's own time is what one node thread can spend.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux Node supports

export function mainThreadCpuMicros(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / TICKS_PER_SECOND);
  } catch {
    return undefined;
  }
}
