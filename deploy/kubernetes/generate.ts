/**
 * `npm run deploy:kubernetes`: writes the YAML files of deploy/kubernetes from manifests.ts.
 * `--check` writes nothing and exits 1 when a file differs (the test does the same).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { stringify } from 'yaml';

import { kustomization, manifests, prometheusAdapterValues } from './manifests.js';

export const DIR = path.dirname(fileURLToPath(import.meta.url));
const HEADER = '# Generated from deploy/kubernetes/manifests.ts by `npm run deploy:kubernetes`; edit that file.\n';

/** File name → YAML text. */
export function renderAll(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [file, objects] of Object.entries(manifests())) {
    files.set(file, HEADER + objects.map((o) => stringify(o.toJSON())).join('---\n'));
  }
  files.set('kustomization.yaml', HEADER + stringify(kustomization()));
  files.set('autoscaling/prometheus-adapter-values.yaml', HEADER + stringify(prometheusAdapterValues()));
  return files;
}

function main(check: boolean): number {
  let stale = 0;
  for (const [file, text] of renderAll()) {
    const target = path.join(DIR, file);
    let current: string | undefined;
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    stale++;
    if (check) {
      console.error(`${file}: differs from manifests.ts`);
    } else {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, text);
      console.log(`wrote ${file}`);
    }
  }
  return check && stale > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(main(process.argv.includes('--check')));
