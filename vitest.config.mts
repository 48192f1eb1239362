import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // The app is CommonJS: type-graphql, Apollo and graphql-ws all require('graphql').
    // Without this, vite hands src/ files graphql's ESM build — a second copy whose
    // GraphQLError/GraphQLSchema fail instanceof checks against the first.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Logs of every gateway started by the tests go to one file per run; the
    // teardown scans them for every secret the tests used (test/helpers/run-logs.ts).
    globalSetup: ['test/global-setup.ts'],
    // e2e tests start real servers; keep files isolated in their own processes.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only add contention.
    maxWorkers: 2,
  },
});
