/**
 * (v2.4) Working hours as the rest of the server uses them: the `Availability` that email digests,
 * Web Push and the `notification` webhook ask before they go out, answered from the schedules
 * and quiet hours in the store (one read for all the users asked about), and the availability
 * a sender sees on the users they share a room with.
 */
import type { AsyncChatStore } from "../../storage/async-chat-store.js";
import type { Availability } from "../notifications/availability.js";
import { nextAvailable } from "./available.js";

/** What a sender sees on a user: reachable now, or when next. */
export interface AvailabilityView {
  available: boolean;
  availableAt: string | null;
}

/** Answers from the store; users without a schedule or quiet hours may always be notified. */
export function scheduledAvailability(store: Pick<AsyncChatStore, "hoursOf">): Availability {
  return {
    async heldUntil(userIds, now) {
      const hours = await store.hoursOf([...new Set(userIds)]);
      return new Map(
        userIds.map((id) => {
          const h = hours.get(id);
          return [id, h ? nextAvailable(h.schedule, h.quietHours, now) : null];
        }),
      );
    },
  };
}

/** The `available`/`availableAt` fields of each of `userIds`. */
export async function availabilityOf(
  availability: Availability,
  userIds: readonly string[],
  now: number,
): Promise<Map<string, AvailabilityView>> {
  const held = await availability.heldUntil(userIds, now);
  return new Map(
    userIds.map((id) => {
      const until = held.get(id) ?? null;
      return [
        id,
        { available: until === null, availableAt: until === null ? null : new Date(until).toISOString() },
      ];
    }),
  );
}
