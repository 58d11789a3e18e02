/**
 * The import rules of `npm run lint` (.dependency-cruiser.cjs) catch what they name: a small
 * project with one deliberate violation of each rule is cruised with the real config and
 * every rule must report its planted violation (and only where planted).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** path → source; imports use the `.js` spelling as herald's sources do. */
const FILES: Record<string, string> = {
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true } }),
  // A file cycle made only of a type import.
  'src/worker/a.ts': "import type { B } from './b.js';\nexport interface A { b?: B }\n",
  'src/worker/b.ts': "import type { A } from './a.js';\nexport interface B { a?: A }\n",
  // A folder cycle with no file cycle: worker → channels and channels → worker.
  'src/worker/c.ts': "import { x } from '../channels/x.js';\nexport const c = x;\n",
  'src/channels/y.ts': "import type { D } from '../worker/d.js';\nexport const y: D = 1;\n",
  'src/worker/d.ts': 'export type D = number;\n',
  'src/channels/x.ts': 'export const x = 1;\n',
  // A shared leaf importing a folder.
  'src/errors.ts': "import { q } from './queue/q.js';\nexport const e = q;\n",
  'src/queue/q.ts': 'export const q = 1;\n',
  // Wiring imported by a module.
  'src/app.ts': 'export const app = 1;\n',
  'src/worker/e.ts': "import { app } from '../app.js';\nexport const e = app;\n",
  // A channel reading state.
  'src/channels/z.ts': "import { ev } from '../eventstore/ev.js';\nimport type { S } from '../instance/s.js';\nexport const z: S = ev;\n",
  'src/instance/s.ts': 'export type S = number;\n',
  // The eventstore importing the queue.
  'src/eventstore/ev.ts': "import { q } from '../queue/q.js';\nexport const ev = q;\n",
  // Content importing a channel.
  'src/content/r.ts': "import { x } from '../channels/x.js';\nexport const r = x;\n",
  // The environment read outside config.
  'src/worker/f.ts': "import { env } from 'node:process';\nexport const f = env.HOME;\n",
  'src/config/g.ts': "import { env } from 'node:process';\nexport const g = env.HOME;\n",
};

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

let dir: string;
let violations: Violation[];
let errors: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-import-rules-'));
  for (const [path, text] of Object.entries(FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const args = [
    join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
    '--config',
    join(ROOT, '.dependency-cruiser.cjs'),
    '--output-type',
    'json',
    'src',
  ];
  const { stdout } = await run(process.execPath, args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
  const { summary } = JSON.parse(stdout) as { summary: { error: number; violations: Violation[] } };
  ({ error: errors, violations } = summary);
}, 180_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const found = (rule: string) => violations.filter((v) => v.rule.name === rule).map((v) => `${v.from} → ${v.to}`);

it('counts the violations as errors (the lint run fails on any)', () => {
  expect(errors).toBe(violations.length);
  expect(errors).toBeGreaterThanOrEqual(10);
});

it('catches a file cycle made of type-only imports', () => {
  expect(found('no-file-cycle')).toEqual(expect.arrayContaining(['src/worker/a.ts → src/worker/b.ts']));
});

it('catches a folder cycle that is no file cycle', () => {
  expect(found('no-folder-cycle')).toEqual(
    expect.arrayContaining([expect.stringMatching(/^src\/(worker|channels)\/? → src\/(channels|worker)\/?$/)]),
  );
  expect(found('no-file-cycle').some((v) => v.includes('channels'))).toBe(false);
});

it('catches a shared leaf importing a folder', () => {
  expect(found('shared-leaves-stay-leaves')).toEqual(['src/errors.ts → src/queue/q.ts']);
});

it('catches a module importing the wiring', () => {
  expect(found('entry-points-are-not-imported')).toEqual(['src/worker/e.ts → src/app.ts']);
});

it('catches a channel importing the eventstore or the instance settings', () => {
  expect(found('channel-never-reads-state').sort()).toEqual(['src/channels/z.ts → src/eventstore/ev.ts', 'src/channels/z.ts → src/instance/s.ts']);
});

it('catches the eventstore importing the queue', () => {
  expect(found('eventstore-never-imports-queue')).toEqual(['src/eventstore/ev.ts → src/queue/q.ts']);
});

it('catches content importing a channel', () => {
  expect(found('content-is-pure-rendering')).toEqual(['src/content/r.ts → src/channels/x.ts']);
});

it('catches the environment read outside src/config, and allows it there', () => {
  expect(found('only-config-reads-the-environment')).toEqual(['src/worker/f.ts → process']);
});
