/**
 * A coarse profile from /proc: CPU seconds each part used during a window (herald
 * processes, the sink, this harness, all Postgres processes, redis-server) and the
 * machine's busy share. Enough to tell which side is the bottleneck. Postgres and Redis are
 * shared with anything else running on the machine; their figures include that.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // CLK_TCK = 100 on Linux

function procTicks(pid: number, withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after ")" start at field 3 (state): utime=14, stime=15, cutime=16, cstime=17.
    const n = (i: number): number => Number(f[i - 3] ?? 0);
    return n(14) + n(15) + (withChildren ? n(16) + n(17) : 0);
  } catch {
    return 0;
  }
}

function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

type Snapshot = { parts: Map<string, number>; machine: { busy: number; total: number }; at: number };

export interface CpuWindow {
  /** CPU use per part during the window, as % of one core, plus the machine's busy %. */
  end(): CpuReport;
}

export interface CpuReport {
  readonly seconds: number;
  readonly machineBusyPct: number;
  readonly cores: number;
  /** part → % of one core */
  readonly parts: Readonly<Record<string, number>>;
}

export function startCpuWindow(named: Readonly<Record<string, number>>, redisPid: number, cores: number): CpuWindow {
  const take = (): Snapshot => {
    const parts = new Map<string, number>();
    for (const [name, pid] of Object.entries(named)) parts.set(name, procTicks(pid));
    parts.set(
      'postgres',
      pidsNamed('postgres').reduce((a, pid) => a + procTicks(pid, true), 0),
    );
    if (redisPid > 0) parts.set('redis', procTicks(redisPid));
    const u = process.cpuUsage();
    parts.set('harness', (u.user + u.system) / 1000 / TICK_MS);
    return { parts, machine: machineTicks(), at: Date.now() };
  };
  const start = take();
  return {
    end() {
      const stop = take();
      const seconds = (stop.at - start.at) / 1000;
      const parts: Record<string, number> = {};
      for (const [name, ticks] of stop.parts) {
        const used = Math.max(0, ticks - (start.parts.get(name) ?? 0)) * TICK_MS;
        parts[name] = seconds > 0 ? (used / (seconds * 1000)) * 100 : 0;
      }
      const dt = stop.machine.total - start.machine.total;
      const busy = dt > 0 ? ((stop.machine.busy - start.machine.busy) / dt) * 100 : 0;
      return { seconds, machineBusyPct: busy, cores, parts };
    },
  };
}

export function formatCpu(r: CpuReport): string {
  const parts = Object.entries(r.parts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(0)}%`)
    .join(', ');
  return `machine ${r.machineBusyPct.toFixed(0)}% busy of ${r.cores} cores over ${r.seconds.toFixed(1)} s; per part (% of one core): ${parts}`;
}
