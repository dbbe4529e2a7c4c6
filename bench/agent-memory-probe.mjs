// Loaded into the agent with `node --import` (NODE_OPTIONS) by
// bench/agent-memory.mjs when PROFCTL_MEMORY_PROBE=1: every 10 s (PROFCTL_MEMORY_PROBE_MS), one stderr
// line with where the process's memory is (V8 heap spaces, external, array
// buffers, RSS). A measuring aid only; the agent never loads it by itself.
import v8 from 'node:v8';

const mib = (n) => (n / 1048576).toFixed(1);
setInterval(() => {
  const m = process.memoryUsage();
  const spaces = v8.getHeapSpaceStatistics().map((s) => `${s.space_name.replace('_space', '')}=${mib(s.space_size)}/${mib(s.space_used_size)}`).join(' ');
  process.stderr.write(`memory-probe rss=${mib(m.rss)} heapTotal=${mib(m.heapTotal)} heapUsed=${mib(m.heapUsed)} external=${mib(m.external)} arrayBuffers=${mib(m.arrayBuffers)} | ${spaces}\n`);
}, Number(process.env.PROFCTL_MEMORY_PROBE_MS ?? 10_000)).unref();
