import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The container tests need a Docker engine and build images: `npm run test:container`.
    exclude: [...configDefaults.exclude, 'test/container/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests spawn real children and bind real ports; two cores do not gain from more parallel files.
    maxWorkers: 2,
  },
});
