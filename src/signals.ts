/**
 * Signals are handled in the entrypoint only (house style §15): the first SIGTERM/SIGINT
 * starts a graceful stop; a second one forces exit 1. Returns a detach function.
 */
import type { Logger } from './logger.js';

export function installSignalHandlers(stop: () => Promise<void>, logger: Logger, exit: (code: number) => void): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping: no new work, finishing in-flight jobs');
    stop().then(
      () => exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
