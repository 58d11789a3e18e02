export { CLEANUP_EVERY_MS, cleanupHistory, type HistoryCleanup, makeHistoryCleanup } from './cleanup.js';
export { historyFilter, type HistoryOptions, type Out, runHistoryCommand, runStatusCommand } from './commands.js';
export { eventHistoryListener, eventOutcomeEntry, isSend, riverHistoryListener, riverOutcomeEntry } from './outcomes.js';
export { pendingFromEvents, pendingFromRiverJobs } from './pending.js';
export { DEFAULT_LIMIT, getDeliveries, type HistoryFilter, listDeliveries, MAX_LIMIT } from './queries.js';
export { renderJsonLines, renderTable, renderTimeline } from './render.js';
export type * from './types.js';
export { FINAL_STATES, MAX_ATTEMPT_LOG, SOURCES, STATES } from './types.js';
export { type HistoryWriter, type HistoryWriterOptions, makeHistoryWriter, mergeEntries } from './writer.js';
