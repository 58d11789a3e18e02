import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the reliability scenarios (kill, wipe, outage, hostile input). They
 * spawn herald processes and private services and measure recovery, so they run one file at
 * a time, after the main suite (which does not include them: they are *.fault.ts).
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.fault.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 30_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
