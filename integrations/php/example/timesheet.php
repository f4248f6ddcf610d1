<?php
/**
 * A timesheet page with a "Discuss this timesheet" button: the button attaches a conversation to
 * the timesheet (recordConversation) for the employee and their approver, and the page then shows
 * it. Run it like index.php: `php -S localhost:8080 -t integrations/php/example`, with CHAT_URL,
 * AUTH_JWT_SECRET and SERVICE_API_KEY set, then open http://localhost:8080/timesheet.php?id=42.
 * APP_URL is this app's address, for the link back from the chat (default: the address asked for).
 */
declare(strict_types=1);
require __DIR__ . '/../TimeWiseChat.php';

session_start();
// Your app signs people in; this example pretends user 1 is signed in.
$_SESSION['user_id'] = $_SESSION['user_id'] ?? 1;
$_SESSION['csrf'] = $_SESSION['csrf'] ?? bin2hex(random_bytes(16));
$userId = (int) $_SESSION['user_id'];
$csrf = (string) $_SESSION['csrf'];
session_write_close();

// Your app loads the timesheet and checks the user may see it; this one is made up.
$id = preg_match('/^\d{1,9}$/', (string) ($_GET['id'] ?? '')) ? (string) $_GET['id'] : '42';
$timesheet = [
    'id' => $id,
    'title' => "Timesheet $id, week 49",
    'employeeId' => $userId,
    'approverId' => (int) (getenv('APPROVER_ID') ?: 2),
];
$appUrl = rtrim(getenv('APP_URL') ?: 'http://' . ($_SERVER['HTTP_HOST'] ?? 'localhost:8080'), '/');
$link = $appUrl . '/timesheet.php?id=' . rawurlencode($id);

$chat = new TimeWiseChat(getenv('CHAT_URL') ?: 'http://localhost:3001', (string) getenv('AUTH_JWT_SECRET'), getenv('SERVICE_API_KEY') ?: null);

$problem = null;
if (($_SERVER['REQUEST_METHOD'] ?? 'GET') === 'POST') {
    if (!hash_equals($csrf, (string) ($_POST['csrf'] ?? ''))) {
        http_response_code(403);
        exit('This form has expired. Reload the page and try again.');
    }
    try {
        // Everyone who may see the timesheet, and nobody else: call this again whenever that changes.
        $chat->recordConversation('timesheet', $timesheet['id'], $timesheet['title'], $link, [$timesheet['employeeId'], $timesheet['approverId']]);
        // Post/Redirect/Get: a reload does not send the form again
        header('Location: ' . $link, true, 303);
        exit;
    } catch (TimeWiseChatError $e) {
        $problem = 'The chat could not be started (' . $e->errorCode . '). Try again in a moment.';
    }
}
$h = static function (string $s): string { return htmlspecialchars($s, ENT_QUOTES); };
?>
<!doctype html>
<meta charset="utf-8">
<title><?= $h($timesheet['title']) ?> – TimeWise</title>
<style>
  body { font: 15px system-ui, sans-serif; margin: 1em; max-width: 46em; }
  #messages { height: 40vh; overflow-y: auto; border: 1px solid #ccc; padding: .5em; margin: .5em 0; }
  [hidden] { display: none; }
</style>
<h1><?= $h($timesheet['title']) ?></h1>
<p>Mon 8h · Tue 11h · Wed 8h · Thu 8h · Fri 6h</p>
<?php if ($problem !== null): ?><p role="alert"><?= $h($problem) ?></p><?php endif ?>
<form method="post" id="discuss">
  <input type="hidden" name="csrf" value="<?= $h($csrf) ?>">
  <button>Discuss this timesheet</button>
</form>
<section id="conversation" hidden>
  <h2>Conversation</h2>
  <div id="messages"></div>
  <form id="send"><input name="body" autocomplete="off" size="50" aria-label="Message"> <button>Send</button></form>
</section>
<?= $chat->embed(['token' => $chat->token($userId)]) ?>
<script>
  const { socket, ask } = timewiseChat;
  const record = { kind: "timesheet", recordId: <?= json_encode($timesheet['id']) ?> };
  let roomId = null;
  const show = (m) => {
    const line = document.createElement("div");
    line.textContent = (m.senderId === "0" ? "TimeWise" : "#" + m.senderId) + ": " + m.body;
    document.getElementById("messages").append(line);
  };
  socket.on("session", async () => {
    try {
      // NOT_FOUND until someone pressed the button (or when this user is not in the conversation)
      const { room } = await ask("room:record", record);
      roomId = room.id;
    } catch (error) {
      if (error.code !== "NOT_FOUND") console.warn("chat:", error.message);
      return;
    }
    document.getElementById("discuss").hidden = true;
    document.getElementById("conversation").hidden = false;
    document.getElementById("messages").replaceChildren();
    (await ask("message:history", { roomId })).messages.forEach(show);
  });
  socket.on("message:new", (m) => { if (m.roomId === roomId) show(m); });
  // taken out of the conversation (no longer on the timesheet): hide it at once
  socket.on("room:removed", (p) => {
    if (p.roomId !== roomId) return;
    roomId = null;
    document.getElementById("conversation").hidden = true;
  });
  document.getElementById("send").onsubmit = async (event) => {
    event.preventDefault();
    const input = event.target.body;
    if (!roomId || !input.value.trim()) return;
    await ask("message:send", { roomId, body: input.value, clientId: crypto.randomUUID() });
    input.value = "";
  };
</script>
