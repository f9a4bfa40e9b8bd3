// Profiling a benchmark phase with node's inspector: `profiled(path, work)` runs `work` under the CPU
// profiler and writes `path` (open it in Chrome DevTools), or under the sampling heap profiler when
// `path` ends in .heapprofile (allocations, including those already collected). Without a path it
// just runs `work`.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export async function profiled<T>(path: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!path) return work();
  const heap = path.endsWith('.heapprofile');
  const session = new Session();
  session.connect();
  try {
    if (heap) {
      await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    } else {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    }
    const result = await work();
    const { profile } = heap ? await session.post('HeapProfiler.stopSampling') : await session.post('Profiler.stop');
    writeFileSync(path, JSON.stringify(profile));
    return result;
  } finally {
    session.disconnect();
  }
}
