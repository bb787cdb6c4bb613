// `npm run test:container`: the image, `docker run` and Compose tests (test/container/), against a real
// Docker engine. Not part of `npm test` (vitest.config.ts leaves test/container/ out): they build images.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/container/**/*.test.ts'],
    globalSetup: ['test/container/global-setup.ts'],
    // One file at a time: each starts containers and builds or restarts images on two cores.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 600_000,
  },
});
