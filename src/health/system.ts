import { statfsSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

export type SystemStatus = 'healthy' | 'warning' | 'critical';

const MB = 1024 * 1024;
const GB = 1024 * MB;

const mb = (bytes: number) => `${Math.round(bytes / MB)}MB`;
const gb = (bytes: number) => `${(bytes / GB).toFixed(1)}GB`;
const percent = (ratio: number) => `${(ratio * 100).toFixed(2)}%`;

function grade(ratio: number, warning: number, critical: number): SystemStatus {
  if (ratio >= critical) return 'critical';
  if (ratio >= warning) return 'warning';
  return 'healthy';
}

/** CPU use between two calls (the first: since the SDK started), as a share of one core (the seed's "12.50%"). */
export class CpuSampler {
  private last = { at: performance.now(), usage: process.cpuUsage() };

  sample(): { user: number; system: number } {
    const now = performance.now();
    const usage = process.cpuUsage();
    const elapsedUs = Math.max(1, (now - this.last.at) * 1000);
    const out = { user: (usage.user - this.last.usage.user) / elapsedUs, system: (usage.system - this.last.usage.system) / elapsedUs };
    this.last = { at: now, usage };
    return out;
  }
}

/**
 * The seed's `system` block. Memory is graded against V8's heap limit (heapTotal only
 * grows as needed, so used/total is always high); disk is the working directory's
 * filesystem.
 */
export function systemReport(cpu: CpuSampler, dir: string = process.cwd()) {
  const memory = process.memoryUsage();
  const heapLimit = getHeapStatistics().heap_size_limit;
  const { user, system } = cpu.sample();
  return {
    memory: {
      status: grade(memory.heapUsed / heapLimit, 0.8, 0.95),
      heap: { total: mb(memory.heapTotal), used: mb(memory.heapUsed), usage: percent(memory.heapUsed / memory.heapTotal) },
      rss: mb(memory.rss),
    },
    cpu: {
      status: grade(user + system, 0.8, 0.95),
      user: percent(user),
      system: percent(system),
      total: percent(user + system),
    },
    disk: diskReport(dir),
    nodejs: process.version,
    platform: process.platform,
    arch: process.arch,
  };
}

function diskReport(dir: string) {
  try {
    const fs = statfsSync(dir);
    const total = fs.blocks * fs.bsize;
    const free = fs.bavail * fs.bsize;
    const used = total > 0 ? (total - free) / total : 0;
    return { status: grade(used, 0.85, 0.95), free: gb(free), total: gb(total), usage: percent(used) };
  } catch (err) {
    return { status: 'warning' as const, message: `disk space unavailable: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
  }
}

export type SystemReport = ReturnType<typeof systemReport>;
