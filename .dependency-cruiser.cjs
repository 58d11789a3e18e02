/* global module */
/**
 * Import rules of herald's src/ (run by `npm run lint`; test/lint/import-rules.test.ts shows
 * each rule catching a deliberate violation). Type-only imports count (tsPreCompilationDeps):
 * a cycle through `import type` is still a cycle of meaning.
 *
 * Folders follow the pipeline (README "Code map"): producer → queue → worker → channels,
 * with instance (settings and user read models), content (rendering), eventstore, crypto,
 * config and util beneath. Files directly in src/ are either entry points (cli, app, demo)
 * or shared leaves (errors, logger, lifecycle, signals).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-file-cycle',
      comment: 'No module may reach itself through its imports (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment: 'No folder under src/ may reach itself through the imports of its files.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/[^/]+' },
      to: { path: '^src/[^/]+', circular: true },
    },
    {
      name: 'shared-leaves-stay-leaves',
      comment: 'errors, logger, lifecycle and signals are used everywhere: they import no folder of src/ but config.',
      severity: 'error',
      from: { path: '^src/(errors|logger|lifecycle|signals|version)\\.ts$' },
      to: { path: '^src/[^/]+/', pathNot: '^src/config/' },
    },
    {
      name: 'entry-points-are-not-imported',
      comment: 'Only the CLI wires the app (app.ts, demo.ts); nothing imports the CLI.',
      severity: 'error',
      from: { pathNot: '^src/cli\\.ts$' },
      to: { path: '^src/(cli|app|demo)\\.ts$' },
    },
    {
      name: 'channel-never-reads-state',
      comment: 'A channel sends what it is given: it never imports the eventstore or the instance settings.',
      severity: 'error',
      from: { path: '^src/channels/' },
      to: { path: '^src/(eventstore|instance)/' },
    },
    {
      name: 'eventstore-never-imports-queue',
      severity: 'error',
      from: { path: '^src/eventstore/' },
      to: { path: '^src/queue/' },
    },
    {
      name: 'content-is-pure-rendering',
      comment: 'content renders; it never imports channels, the eventstore (but the shapes of a request and a user), settings or a database driver.',
      severity: 'error',
      from: { path: '^src/content/' },
      to: {
        path: ['^src/(channels|eventstore|instance|queue|worker)/', '(^|/)node_modules/(pg|ioredis|bullmq)/'],
        pathNot: '^src/eventstore/notification-types\\.ts$',
      },
    },
    {
      name: 'only-config-reads-the-environment',
      comment: 'Only src/config and src/cli.ts read the environment (process.env is also an eslint rule).',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/config/', '^src/cli\\.ts$'] },
      to: { path: '^(node:)?process$', dependencyTypes: ['core'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
