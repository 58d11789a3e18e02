/** Spawns herald CLI processes from source; collects output; stops them with a signal. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./herald-process.ts', import.meta.url));

export interface HeraldProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited(): Promise<number | null>;
}

export function spawnHerald(args: readonly string[], env: Record<string, string>): HeraldProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    // Port 0: every spawned process gets its own free port for health and metrics.
    env: { PATH: process.env.PATH ?? '', HERALD_HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => out,
    exited: () => exit,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
  };
}

/** Runs a CLI command to completion: exit code and output. */
export async function runHerald(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const p = spawnHerald(args, env);
  const code = await p.exited();
  return { code, output: p.output() };
}
