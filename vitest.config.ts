import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // System tests load BPF programs and start servers; keep them from
    // fighting over the machine's two cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
