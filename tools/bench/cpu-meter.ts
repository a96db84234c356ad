import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/**
 * CPU time spent by each process on the capture path, read from /proc (Linux only: elsewhere every
 * reading is undefined and the bench prints n/a). Everything in the bench shares the same cores,
 * so "CPU-µs per learning, all processes together" is what bounds the throughput.
 */
export type Group = 'gateway' | 'learner' | 'postgres' | 'nats' | 'bench';
export const GROUPS: Group[] = ['gateway', 'learner', 'postgres', 'nats', 'bench'];

export interface CpuSample {
  /** Milliseconds of CPU (user + system) per group, cumulative. */
  groups: Partial<Record<Group, number>>;
  /** Milliseconds of busy CPU on the whole machine (all cores, every process, steal excluded). */
  machine?: number;
  /** Milliseconds the hypervisor ran something else while this VM wanted the CPU (all cores). */
  steal?: number;
}

// /proc times are in clock ticks; USER_HZ is 100 on every Linux this runs on.
const MS_PER_TICK = 10;

/** The fields of /proc/<pid>/stat after the command name (state first), or undefined once it is gone. */
function stat(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in ms, and cutime + cstime (its reaped children). */
function times(fields: string[]): { own: number; children: number } {
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]) * MS_PER_TICK);
  return { own: utime! + stime!, children: cutime! + cstime! };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The postmaster, its backends and helpers (live ones from /proc, exited ones via cutime/cstime). */
function postgresTree(postmaster: number): number | undefined {
  const fields = stat(postmaster);
  if (!fields) return undefined;
  const { own, children: reaped } = times(fields);
  let total = own + reaped;
  for (const pid of listPids()) {
    const child = stat(pid);
    if (child && Number(child[1]) === postmaster) total += times(child).own; // [1]: the parent's pid
  }
  return total;
}

function listPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Busy and stolen CPU of the whole machine, from the first line of /proc/stat. */
function machineTimes(): { machine?: number; steal?: number } {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle, iowait and steal.
    const [user, nice, system, , , irq, softirq, steal] = cpu as number[];
    return {
      machine: (user! + nice! + system! + irq! + softirq!) * MS_PER_TICK,
      steal: (steal ?? 0) * MS_PER_TICK,
    };
  } catch {
    return {};
  }
}

export class CpuMeter {
  readonly cores = availableParallelism();

  private constructor(
    private readonly pids: Partial<Record<Exclude<Group, 'postgres'>, number>>,
    private readonly postmaster?: number,
  ) {}

  /** The processes by pid; Postgres (a process per connection) from the postmaster's pid file. */
  static forStack(
    pgDataDir: string | undefined,
    pids: { gateway?: number; learner?: number; nats?: number },
  ): CpuMeter {
    return new CpuMeter(
      { ...pids, bench: process.pid },
      pgDataDir ? readPid(join(pgDataDir, 'postmaster.pid')) : undefined,
    );
  }

  sample(): CpuSample {
    const groups: CpuSample['groups'] = {};
    for (const [group, pid] of Object.entries(this.pids) as [Group, number | undefined][]) {
      const fields = pid ? stat(pid) : undefined;
      if (fields) groups[group] = times(fields).own;
    }
    const pg = this.postmaster ? postgresTree(this.postmaster) : undefined;
    if (pg !== undefined) groups.postgres = pg;
    return { groups, ...machineTimes() };
  }
}

/** CPU-µs per unit of work between two samples, per group and for the machine. */
export function perUnit(from: CpuSample, to: CpuSample, units: number) {
  const per = (a?: number, b?: number) =>
    a === undefined || b === undefined ? undefined : ((b - a) * 1000) / units;
  return {
    groups: Object.fromEntries(GROUPS.map((g) => [g, per(from.groups[g], to.groups[g])])) as Record<
      Group,
      number | undefined
    >,
    machine: per(from.machine, to.machine),
    steal: per(from.steal, to.steal),
  };
}
