/** The connection banner: shown while offline or connecting, with how many messages are waiting. */
import { useClient } from "../hooks.js";

export function Banner() {
  const state = useClient().state;
  const waiting = state.pendingCount();
  const messages = `${waiting} ${waiting === 1 ? "message" : "messages"}`;
  let text = "";
  if (state.status === "offline") {
    text =
      waiting > 0
        ? `You're offline. ${messages} will be sent when you're back online.`
        : "You're offline. Trying to reconnect…";
  } else if (state.status === "connecting") {
    text = waiting > 0 ? `Connecting… ${messages} waiting to be sent.` : "Connecting…";
  }
  return (
    <div class={`banner${text ? " shown" : ""}`} role="status" aria-live="polite">
      {text}
    </div>
  );
}
