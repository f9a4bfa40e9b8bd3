// CPU time read from /proc (Linux), in µs; undefined elsewhere.
// - mainThreadCpuMicros: the process's main thread alone. process.cpuUsage() adds V8's helper threads
//   and the node's other threads, which run on the same two cores as the database: the main thread's
//   own time is what one node thread can spend.
// - machineCpuMicros: every core's busy time (all processes: the node, PostgreSQL, NATS, the kernel's
//   writeback). When the cores are saturated this, per message, is what caps the rate.
// - commandCpuMicros: the processes of one command (e.g. 'postgres': the server and every backend);
//   only those on this machine, and only while they live (a backend that exits takes its time along).
// - startCpuReading: the machine's and PostgreSQL's CPU over a phase, per unit of its work.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux Node supports
const MICROS_PER_TICK = 1_000_000 / TICKS_PER_SECOND;

/** utime + stime of a /proc stat line, in µs. Fields after the command name (which may hold spaces,
 *  so split after its closing parenthesis): utime and stime are fields 14 and 15 of the line, 12 and
 *  13 after the name. */
function statCpuMicros(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * MICROS_PER_TICK;
}

export function mainThreadCpuMicros(): number | undefined {
  try {
    return statCpuMicros(readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Undefined where /proc is not there or no process runs `command`. */
export function commandCpuMicros(command: string): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let total: number | undefined;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === command) total = (total ?? 0) + statCpuMicros(stat);
    } catch {
      // The process ended between listing and reading.
    }
  }
  return total;
}

export function machineCpuMicros(): number | undefined {
  try {
    // "cpu  user nice system idle iowait irq softirq steal ...": busy is all but idle and iowait.
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((sum, ticks) => sum + ticks, 0);
    return (total - fields[3]! - fields[4]!) * MICROS_PER_TICK;
  } catch {
    return undefined;
  }
}

/** CPU µs per unit of a phase's work, to one decimal (undefined where it could not be read). */
export interface CpuPerUnit {
  machine: number | undefined;
  postgres: number | undefined;
}

const perUnit = (before: number | undefined, after: number | undefined, units: number): number | undefined =>
  before === undefined || after === undefined ? undefined : Math.round((after - before) / units * 10) / 10;

/** Reads the machine's and PostgreSQL's CPU now; `perUnit` then gives what each used since, per unit. */
export function startCpuReading(): { perUnit(units: number): CpuPerUnit } {
  const machine = machineCpuMicros();
  const postgres = commandCpuMicros('postgres');
  return {
    perUnit: (units) => ({
      machine: perUnit(machine, machineCpuMicros(), units),
      postgres: perUnit(postgres, commandCpuMicros('postgres'), units),
    }),
  };
}
