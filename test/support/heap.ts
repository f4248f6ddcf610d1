/**
 * The heap after full garbage collections, for tests that check memory stays flat. The test
 * runner cannot pass --expose-gc, so the flag is set at load and gc is fetched from a fresh context.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

export function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * The heap plus the memory of every Buffer and ArrayBuffer, after full garbage collections: file
 * bytes live outside the JavaScript heap, so a file held whole in memory shows here.
 */
export function memoryAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}
