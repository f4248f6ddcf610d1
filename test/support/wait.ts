/** Waiting in tests: poll for a condition instead of sleeping. */

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs`, naming `what`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves after `ms`, for the few checks that something does NOT happen. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
