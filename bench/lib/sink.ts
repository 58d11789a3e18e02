/** Parent side of the benchmark SMTP sink (sink-process.ts), reached over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export type SinkRequest = { id: number; cmd: 'count' | 'reset' | 'close' } | { id: number; cmd: 'records'; from?: number };

export interface SinkReply {
  id: number;
  port?: number;
  count: number;
  bytes: number;
  cpuMs: number;
  recipients?: string[];
  times?: number[];
}

export interface Delivery {
  readonly to: string;
  /** Accept time, epoch ms. */
  readonly at: number;
}

export interface BenchSink {
  readonly url: string;
  readonly pid: number;
  count(): Promise<{ count: number; bytes: number; cpuMs: number }>;
  /** Every accepted message so far, in accept order. */
  deliveries(): Promise<Delivery[]>;
  /** Resolves when `n` messages were accepted; rejects after timeoutMs. */
  waitFor(n: number, timeoutMs: number, onProgress?: (count: number) => void): Promise<void>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./sink-process.ts', import.meta.url));

export async function startSink(): Promise<BenchSink> {
  const child: ChildProcess = fork(ENTRY, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, (r: SinkReply) => void>();
  let nextId = 1;
  const ready = new Promise<SinkReply>((resolve) => pending.set(0, resolve));
  child.on('message', (m: SinkReply) => {
    const resolve = pending.get(m.id);
    pending.delete(m.id);
    resolve?.(m);
  });
  const exited = once(child, 'exit');
  const hello = await Promise.race([ready, exited.then(() => Promise.reject(new Error('sink process exited at start')))]);

  function ask(cmd: 'count' | 'reset' | 'close' | 'records', from?: number): Promise<SinkReply> {
    const id = nextId++;
    const reply = new Promise<SinkReply>((resolve) => pending.set(id, resolve));
    child.send(cmd === 'records' ? { id, cmd, from } : { id, cmd });
    return reply;
  }

  async function count(): Promise<{ count: number; bytes: number; cpuMs: number }> {
    const r = await ask('count');
    return { count: r.count, bytes: r.bytes, cpuMs: r.cpuMs };
  }

  return {
    url: `smtp://127.0.0.1:${hello.port ?? 0}`,
    pid: child.pid ?? 0,
    count,
    async deliveries() {
      const out: Delivery[] = [];
      for (;;) {
        const r = await ask('records', out.length);
        const to = r.recipients ?? [];
        const at = r.times ?? [];
        for (let i = 0; i < to.length; i++) out.push({ to: to[i] ?? '', at: at[i] ?? 0 });
        if (to.length === 0 || out.length >= r.count) return out;
      }
    },
    async waitFor(n, timeoutMs, onProgress) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = (await count()).count;
        onProgress?.(got);
        if (got >= n) return;
        if (Date.now() > deadline) throw new Error(`sink: ${got}/${n} messages after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async reset() {
      await ask('reset');
    },
    async close() {
      if (child.exitCode !== null) return;
      child.send({ id: nextId++, cmd: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
