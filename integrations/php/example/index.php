<?php
/**
 * A TimeWise page with chat: the signed-in user's rooms, the messages of one, and a box to send.
 * Run it with `php -S localhost:8080 -t integrations/php/example` next to a running chat server,
 * after setting CHAT_URL, AUTH_JWT_SECRET and (for the badge) SERVICE_API_KEY. Add
 * http://localhost:8080 to the chat server's CORS_ORIGINS.
 * With CHAT_SIGN_IN=cookie the page signs in with the PHP session cookie instead of a token
 * (the chat server then needs PHP_SESSION_STORE=files and PHP_SESSION_PATH = this PHP's save path).
 */
declare(strict_types=1);
require __DIR__ . '/../TimeWiseChat.php';

session_start();
// Your app signs people in; this example pretends user 1 is signed in.
$_SESSION['user_id'] = $_SESSION['user_id'] ?? 1;
$userId = (int) $_SESSION['user_id'];
// Write the session now, not at the end of the request: the chat server reads it as soon as the
// page connects, and PHP's lock on the session is released for the page's other requests.
session_write_close();

$chat = new TimeWiseChat(getenv('CHAT_URL') ?: 'http://localhost:3001', (string) getenv('AUTH_JWT_SECRET'), getenv('SERVICE_API_KEY') ?: null);
$unread = getenv('SERVICE_API_KEY') ? $chat->unread($userId)['total'] : 0;
?>
<!doctype html>
<meta charset="utf-8">
<title>TimeWise – Chat</title>
<style>
  body { font: 15px system-ui, sans-serif; display: grid; grid-template-columns: 14em 1fr; gap: 1em; margin: 1em; }
  #rooms button { display: block; width: 100%; text-align: left; margin-bottom: .3em; }
  #messages { height: 60vh; overflow-y: auto; border: 1px solid #ccc; padding: .5em; }
</style>
<nav>Chat <span id="badge"><?= $unread ? '(' . $unread . ')' : '' ?></span><div id="rooms"></div></nav>
<main>
  <div id="messages"></div>
  <form id="send"><input name="body" autocomplete="off" size="60"> <button>Send</button></form>
</main>
<?= $chat->embed(getenv('CHAT_SIGN_IN') === 'cookie' ? [] : ['token' => $chat->token($userId)]) ?>
<script>
  const { socket, ask } = timewiseChat;
  let current = null;
  const show = (m) => {
    const line = document.createElement("div");
    line.textContent = (m.senderId === "0" ? "TimeWise" : "#" + m.senderId) + ": " + m.body;
    document.getElementById("messages").append(line);
  };
  async function open(room) {
    current = room.id;
    document.getElementById("messages").replaceChildren();
    (await ask("message:history", { roomId: room.id })).messages.forEach(show);
    await ask("room:read", { roomId: room.id, seq: room.lastSeq });
  }
  socket.on("session", async () => {
    const { rooms } = await ask("room:list");
    const list = document.getElementById("rooms");
    list.replaceChildren(...rooms.map((room) => {
      const button = document.createElement("button");
      button.textContent = (room.name ?? "Direct chat") + (room.unread ? " (" + room.unread + ")" : "");
      button.onclick = () => open(room);
      return button;
    }));
  });
  socket.on("message:new", (m) => { if (m.roomId === current) show(m); });
  socket.on("connect_error", (err) => console.warn("chat:", err.message, err.data?.code));
  document.getElementById("send").onsubmit = async (event) => {
    event.preventDefault();
    const input = event.target.body;
    if (!current || !input.value.trim()) return;
    await ask("message:send", { roomId: current, body: input.value, clientId: crypto.randomUUID() });
    input.value = "";
  };
</script>
