/**
 * Peak memory of the Worker process while it stores a recording: a 200 MB recording must not need more than twice
 * the memory of a 1 MB one (SPEC, targets), because the bytes are streamed, never held whole. The measuring is in
 * scripts/lib/worker-memory.ts, shared with `npm run bench`; this test asserts only memory and the bytes stored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MB, type MemoryWorker, startMemoryWorker } from "../../scripts/lib/worker-memory.ts";

let worker: MemoryWorker;

describe("memory while storing a recording", () => {
  beforeAll(async () => {
    worker = await startMemoryWorker();
  }, 180_000);

  afterAll(async () => {
    await worker?.close();
  });

  it("stays within 2 × the 1 MB peak for a 200 MB recording, with and without Content-Length", async () => {
    await worker.storeRecording("ACmemwarm", 1 * MB, false);
    const small = await worker.storeRecording("ACmem1mb", 1 * MB, false);
    const large = await worker.storeRecording("ACmem200mb", 200 * MB, false);
    const chunked = await worker.storeRecording("ACmem200mbchunked", 200 * MB, true);
    console.log(
      [
        `workerd peak resident memory while storing one recording (${small.how}):`,
        `  1 MB (Content-Length):    ${small.peakMb.toFixed(1)} MB (baseline ${small.baselineMb.toFixed(1)} MB)`,
        `  200 MB (Content-Length):  ${large.peakMb.toFixed(1)} MB (baseline ${large.baselineMb.toFixed(1)} MB; ${(large.peakMb / small.peakMb).toFixed(2)} ×)`,
        `  200 MB (chunked, multipart): ${chunked.peakMb.toFixed(1)} MB (baseline ${chunked.baselineMb.toFixed(1)} MB; ${(chunked.peakMb / small.peakMb).toFixed(2)} ×)`,
      ].join("\n"),
    );
    expect(large.peakMb).toBeLessThanOrEqual(2 * small.peakMb);
    expect(chunked.peakMb).toBeLessThanOrEqual(2 * small.peakMb);
  }, 600_000);
});
