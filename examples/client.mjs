// biome-ignore-all lint/suspicious/noConsole: an example client talks to the person running it.
// A small TimeWise Chat client: sign in, list rooms, open a direct chat, send a message,
// print what arrives, and catch up after a dropped connection.
//
//   node examples/client.mjs <username> <password> [other user to chat with] [message]
//
// or set CHAT_USERNAME, CHAT_PASSWORD, CHAT_PEER and CHAT_URL (default http://localhost:3001).
// Stop it with Ctrl+C. See docs/protocol.md for everything used here.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { io } from "socket.io-client";

const url = process.env.CHAT_URL ?? "http://localhost:3001";
const [username = process.env.CHAT_USERNAME, password = process.env.CHAT_PASSWORD] = process.argv.slice(2);
const peerQuery = process.argv[4] ?? process.env.CHAT_PEER ?? "";
const text = process.argv[5] ?? "Hello from the example client";
if (!username || !password) {
  console.error("usage: node examples/client.mjs <username> <password> [other user] [message]");
  process.exit(2);
}

// 1. Sign in over HTTP to get a token. (Inside TimeWise, the PHP app hands the page a token instead.)
const login = await fetch(`${url}/api/login`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ username, password }),
});
if (!login.ok) {
  const { error } = await login.json().catch(() => ({ error: { message: login.statusText } }));
  console.error(`sign-in failed (${login.status}): ${error?.message}`);
  process.exit(1);
}
const { token, user: me } = await login.json();
console.log(`signed in as ${me.name} (id ${me.id})`);

// 2. Connect. `auth` is a function so that every reconnect sends the token again.
const socket = io(url, { auth: (cb) => cb({ token }) });

// Sends a request and waits for its ack; a failed ack becomes an error carrying its `code`.
async function ask(event, payload) {
  const answer = await socket.timeout(10_000).emitWithAck(event, payload);
  if (!answer.ok) throw Object.assign(new Error(`${event}: ${answer.error.message}`), answer.error);
  return answer;
}

// Per room, the `rev` up to which we have seen everything: the cursor for catching up.
const revs = new Map();
// From a disconnect until the catch-up is done, live events may arrive before the ones we missed.
// Moving the cursor past them would skip the gap, so their revs wait here until catch-up ends.
let syncing = false;
const heldBack = new Map();
function remember(message) {
  const cursors = syncing ? heldBack : revs;
  if (message.rev > (cursors.get(message.roomId) ?? 0)) cursors.set(message.roomId, message.rev);
}
function show(label, m) {
  const what = m.deleted ? "(deleted)" : JSON.stringify(m.body);
  console.log(`${label} room ${m.roomId} #${m.seq} from ${m.senderId}: ${what}`);
}

// 3. Live events. Our own messages come back here too, so we could match them by clientId.
socket.on("message:new", (m) => {
  remember(m);
  show("new    ", m);
});
socket.on("message:updated", (m) => {
  remember(m);
  show("changed", m);
});
socket.on("message:deleted", (m) => {
  remember(m);
  show("deleted", m);
});
socket.on("room:updated", (room) => {
  // A room we did not know: someone added us. Start following it from its current rev.
  if (!revs.has(room.id)) revs.set(room.id, room.rev);
  console.log(`room ${room.id} changed: ${room.name ?? "direct"}, ${room.members.length} members`);
});
socket.on("room:removed", ({ roomId }) => revs.delete(roomId));

// A refused connection is not retried by Socket.io: we decide.
socket.on("connect_error", async (err) => {
  if (err.message === "unavailable") {
    console.log("the server can't check users right now; trying again in 5 s");
    await sleep(5000);
    socket.connect();
  } else if (err.message === "unauthorized") {
    console.error(`refused: ${err.data?.code}. Sign in again.`);
    process.exit(1);
  }
  // Anything else is a network problem: Socket.io keeps trying by itself.
});
socket.on("disconnect", (reason) => {
  syncing = true;
  console.log(`disconnected (${reason})`);
});

// 4. `session` comes after the server has put this connection in all our rooms, so from here on
// nothing is missed: the right moment to load the first time, and to catch up after a reconnect.
let started = false;
socket.on("session", async () => {
  try {
    if (!started) {
      started = true;
      await firstRun();
    } else {
      await catchUp();
    }
  } catch (err) {
    console.error(`error: ${err.code ?? ""} ${err.message}`);
  }
});

async function firstRun() {
  const { rooms } = await ask("room:list", {});
  console.log(`${rooms.length} room(s):`);
  for (const room of rooms) {
    revs.set(room.id, room.rev);
    console.log(`  ${room.id}  ${room.name ?? "(direct)"}  unread ${room.unread}`);
  }

  // Find someone to talk to, and open (or reuse) our direct room with them.
  const { users } = await ask("user:search", { query: peerQuery, limit: 5 });
  if (users.length === 0) {
    console.log("nobody else found; add a second user to try direct messages");
    return;
  }
  const peer = users[0];
  const { room } = await ask("room:direct", { userId: peer.id });
  if (!revs.has(room.id)) revs.set(room.id, room.rev);
  console.log(`direct room ${room.id} with ${peer.name}`);

  const sent = await send(room.id, text);
  console.log(`stored as message ${sent.id} (#${sent.seq})`);

  // Show the catch-up: drop the connection as a bad network would. Socket.io reconnects,
  // `session` arrives again, and catchUp() fetches whatever happened in between.
  setTimeout(() => {
    console.log("dropping the connection on purpose…");
    socket.io.engine.close();
  }, 3000);
}

// Sends with one clientId for all attempts: if an ack is lost, the retry returns the stored
// message instead of posting it twice.
async function send(roomId, body) {
  const clientId = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return (await ask("message:send", { roomId, body, clientId })).message;
    } catch (err) {
      const worthRetrying =
        err.code === undefined || err.code === "RATE_LIMITED" || err.code === "UNAVAILABLE";
      if (!worthRetrying || attempt === 5) throw err;
      await sleep(err.retryAfterMs ?? 1000 * attempt);
    }
  }
}

// Asks each room for what changed since the last rev we saw: new messages, edits, deletions and
// reactions, each once, with nothing skipped.
async function catchUp() {
  const { rooms } = await ask("room:list", {});
  let count = 0;
  for (const room of rooms) {
    let since = revs.get(room.id);
    if (since === undefined) {
      revs.set(room.id, room.rev); // a room that is new to us: a real app would load its history
      continue;
    }
    while (since < room.rev) {
      const { messages, rev, hasMore } = await ask("message:changes", { roomId: room.id, sinceRev: since });
      for (const m of messages) show("missed ", m);
      count += messages.length;
      since = rev;
      revs.set(room.id, rev);
      if (!hasMore) break;
    }
  }
  // Now the live events held back can move the cursors again.
  for (const [roomId, rev] of heldBack) if (rev > (revs.get(roomId) ?? 0)) revs.set(roomId, rev);
  heldBack.clear();
  syncing = false;
  console.log(`caught up: ${count} change(s) while we were away`);
}

process.on("SIGINT", () => {
  socket.close();
  process.exit(0);
});
