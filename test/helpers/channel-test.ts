/** Shared scaffolding of the channel tests: a silent send context and LIFO cleanups. */
import { pino } from 'pino';
import { afterEach } from 'vitest';

import type { SendContext } from '../../src/channels/types.js';

export const silentLogger = pino({ level: 'silent' });

export function sendContext(signal: AbortSignal = new AbortController().signal): SendContext {
  return { signal, logger: silentLogger };
}

/** Cleanups registered during a test run after it, last first. Call once per file. */
export function useCleanups(): { push(cleanup: () => Promise<void>): void } {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return { push: (cleanup) => void cleanups.push(cleanup) };
}
