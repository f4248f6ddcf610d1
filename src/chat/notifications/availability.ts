/**
 * (v2.4) Whether a user may be reached away from the chat now: email digests, Web Push and the
 * `notification` webhook ask here before they go out. Working hours and quiet hours answer it;
 * live delivery to open sessions never asks.
 */
export interface Availability {
  /**
   * For each of `userIds`: null when they may be notified at `now` (ms), else the time (ms) their
   * next working period starts, when what is held for them goes out.
   */
  heldUntil(userIds: readonly string[], now: number): Promise<Map<string, number | null>>;
}

/** Everyone may be notified at any time: the answer without schedules or quiet hours. */
export const alwaysAvailable: Availability = {
  heldUntil: async (userIds) => new Map(userIds.map((id) => [id, null])),
};
