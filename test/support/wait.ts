/** Waiting in tests: poll for a condition instead of sleeping. */

/**
 * Polls `check` every 20 ms until it holds; fails after `timeoutMs`, naming `what` (a function to
 * describe the state at the moment it gave up). There is no `sleep`: to check that something does
 * NOT happen, make a round trip on the same socket first (docs/testing.md).
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what: string | (() => string) = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === "function" ? what() : what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
