/**
 * Links into the chat, as the email digest writes them: `<CHAT_PUBLIC_URL>/#room=<id>` opens that
 * room. The fragment never reaches the server, so the room id stays out of its logs; it is taken
 * out of the address bar once the room is open, so the same link opens the room again later.
 */

const ROOM = /(?:^#|&)room=([1-9][0-9]*)(?=&|$)/;

/** The room id in the address bar's `#room=…`, or null. */
export function roomFromLink(): string | null {
  return ROOM.exec(location.hash)?.[1] ?? null;
}

/** Removes `name=…` from the fragment, keeping the rest (e.g. `#token=…&room=5` keeps `room=5`). */
export function dropFromFragment(name: string): void {
  const rest = location.hash
    .replace(/^#/, "")
    .split("&")
    .filter((part) => part !== "" && !part.startsWith(`${name}=`))
    .join("&");
  history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
}
