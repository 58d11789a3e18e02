/**
 * Signals are handled in the entrypoint only (house style §15): the first SIGTERM/SIGINT
 * starts a graceful stop; a second one forces exit 1. An unhandled rejection is logged and
 * stops the process the same way, ending with exit 1. A watchdog bounds the stop: if it has
 * not finished shortly after the grace period (something hangs while closing), exit 1 rather
 * than wait for the orchestrator's SIGKILL. Returns a detach function.
 */
import type { Logger } from './logger.js';

export interface SignalOptions {
  /** HERALD_SHUTDOWN_GRACE: the stop is expected to finish within it. */
  readonly graceMs?: number;
  /** Extra time after graceMs before the watchdog gives up on the stop. @defaultValue 5 s */
  readonly watchdogMarginMs?: number;
}

export function installSignalHandlers(stop: () => Promise<void>, logger: Logger, exit: (code: number) => void, opts: SignalOptions = {}): () => void {
  let stopping = false;
  let done = false;
  let watchdog: NodeJS.Timeout | undefined;
  const finish = (code: number): void => {
    if (done) return;
    done = true;
    if (watchdog) clearTimeout(watchdog);
    exit(code);
  };
  const beginStop = (exitCode: number): void => {
    stopping = true;
    if (opts.graceMs !== undefined) {
      const limit = opts.graceMs + (opts.watchdogMarginMs ?? 5000);
      watchdog = setTimeout(() => {
        logger.error({ limitMs: limit }, 'stop did not finish in time: exiting now');
        finish(1);
      }, limit);
      watchdog.unref();
    }
    stop().then(
      () => finish(exitCode),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        finish(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      finish(1);
      return;
    }
    logger.info({ signal }, 'stopping: no new work, finishing in-flight jobs');
    beginStop(0);
  };
  const onRejection = (reason: unknown): void => {
    logger.error({ err: reason }, 'unhandled rejection: stopping');
    if (!stopping) beginStop(1);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('unhandledRejection', onRejection);
  };
}
