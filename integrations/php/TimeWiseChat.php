<?php
/**
 * TimeWise Chat kit for PHP: one file, no dependencies (PHP 7.4 or newer, with the json and hash
 * extensions every PHP has). Copy it into the PHP app and require it.
 *
 *   $chat = new TimeWiseChat('https://chat.timewise.example.com', getenv('AUTH_JWT_SECRET'), getenv('SERVICE_API_KEY'));
 *   echo $chat->embed(['token' => $chat->token($userId)]);   // chat on this page
 *   $chat->postMessage('team:42', 'Invoice #1001 was paid.');   // server API: post as TimeWise
 *   $file = $chat->uploadFile($userId, '/tmp/receipt.pdf');    // server API: a file, then a message with it
 *   $chat->postMessage('team:42', 'Receipt', null, $userId, [$file['id']]);
 *   $chat->syncRoom('team:42', 'Team Blue', [7, 12, 31]);      // server API: mirror a team
 *   $chat->recordConversation('timesheet', 42, 'Timesheet week 49', $url, [7, 12]); // a record's chat
 *   $badge = $chat->unread($userId)['total'];                 // server API: navbar badge
 *   $chat->setSchedule($userId, ['timeZone' => 'Europe/Lisbon', 'weekly' => ['mon' => [['08:00', '16:30']]]]);
 *   $audit = $chat->urgentMessages(new DateTimeImmutable('-7 days')); // who broke through working hours
 *   $event = TimeWiseChat::verifyWebhook($secret, file_get_contents('php://input'), TimeWiseChat::requestHeaders());
 *   $missed = TimeWiseChat::notificationOf($event);   // someone away: ['userId' => …, 'messages' => […]]
 *
 * See docs/php-integration.md in the TimeWise Chat repository.
 */

declare(strict_types=1);

/** A refused or failed call: `errorCode` is the chat server's code (BAD_REQUEST, NOT_FOUND, AUTH_INVALID…). */
final class TimeWiseChatError extends RuntimeException
{
    /** @var string */
    public $errorCode;
    /** @var int the HTTP status (0 when the server could not be reached) */
    public $status;

    public function __construct(string $message, string $errorCode, int $status)
    {
        parent::__construct($message);
        $this->errorCode = $errorCode;
        $this->status = $status;
    }
}

final class TimeWiseChat
{
    /** @var string */
    private $url;
    /** @var string */
    private $jwtSecret;
    /** @var string|null */
    private $serviceKey;
    /** @var int */
    private $timeout;
    /** @var string */
    private $issuer;
    /** @var string */
    private $audience;

    /**
     * @param string      $url        the chat server's address, such as https://chat.timewise.example.com
     * @param string      $jwtSecret  AUTH_JWT_SECRET of the chat server (needed for token())
     * @param string|null $serviceKey SERVICE_API_KEY of the chat server (needed for the server API)
     * @param array       $options    ['timeout' => seconds for server API calls, default 5,
     *                                'issuer' => the chat server's AUTH_JWT_ISSUER, default 'timewise',
     *                                'audience' => its AUTH_JWT_AUDIENCE, default 'timewise-chat']
     */
    public function __construct(string $url, string $jwtSecret = '', ?string $serviceKey = null, array $options = [])
    {
        $this->url = rtrim($url, '/');
        $this->jwtSecret = $jwtSecret;
        $this->serviceKey = $serviceKey;
        $this->timeout = (int) ($options['timeout'] ?? 5);
        $this->issuer = (string) ($options['issuer'] ?? 'timewise');
        $this->audience = (string) ($options['audience'] ?? 'timewise-chat');
    }

    // --- Tokens --------------------------------------------------------------------------------

    /**
     * A chat token for a signed-in user, made here without calling the chat server: an HS256 JWT
     * with `sub`, `iat`, `exp`, and the `iss` and `aud` the chat server requires in production.
     * Keep $ttl short (an hour); the page asks for a new one on reload.
     *
     * @param int|string $userId
     * @param array      $claims extra claims (an `iss` or `aud` here replaces the kit's)
     */
    public function token($userId, int $ttl = 3600, array $claims = []): string
    {
        if (strlen($this->jwtSecret) < 32) {
            throw new TimeWiseChatError('The JWT secret must be the chat server\'s AUTH_JWT_SECRET (32 bytes or more).', 'BAD_REQUEST', 0);
        }
        $now = time();
        $header = self::base64url(json_encode(['alg' => 'HS256', 'typ' => 'JWT']));
        $claims = array_merge(['iss' => $this->issuer, 'aud' => $this->audience], $claims);
        $payload = self::base64url(json_encode(['sub' => (string) $userId, 'iat' => $now, 'exp' => $now + $ttl] + $claims));
        $signature = self::base64url(hash_hmac('sha256', "$header.$payload", $this->jwtSecret, true));
        return "$header.$payload.$signature";
    }

    /**
     * A token minted by the chat server (server API). Use it when the PHP app must not hold
     * AUTH_JWT_SECRET. Returns ['token' => …, 'expiresAt' => …, 'user' => ['id' => …, 'name' => …]].
     *
     * @param int|string $userId
     */
    public function mintToken($userId, ?int $ttl = null): array
    {
        $body = ['userId' => (string) $userId];
        if ($ttl !== null) {
            $body['ttlS'] = $ttl;
        }
        return $this->call('POST', '/api/server/tokens', $body);
    }

    // --- Server API ----------------------------------------------------------------------------

    /**
     * Posts a message into a room: a room id (digits) or a mirrored room's key (`team:42`).
     * Without $senderId the message comes from TimeWise itself (senderId "0").
     * Pass a $clientId that is stable for this message (such as "invoice-1001-paid") and a retry
     * can never post it twice. $fileIds: files from uploadFile() by the same $senderId (the body may
     * then be ''); TimeWise itself sends no files.
     *
     * $urgent: notify every member at once, even outside their working hours or inside their quiet
     * hours. Keep it for what cannot wait: the chat trusts the PHP app here (in the chat itself only
     * a room's owner or admins may send one), so decide in PHP who may.
     *
     * @param int|string      $room
     * @param int|string|null $senderId
     * @param string[]        $fileIds
     */
    public function postMessage($room, string $body, ?string $clientId = null, $senderId = null, array $fileIds = [], bool $urgent = false): array
    {
        $payload = ['body' => $body, 'clientId' => $clientId ?? bin2hex(random_bytes(16))];
        if ($urgent) {
            $payload['urgent'] = true;
        }
        if ($fileIds !== []) {
            $payload['fileIds'] = array_values(array_map('strval', $fileIds));
        }
        if (is_int($room) || ctype_digit((string) $room)) {
            $payload['roomId'] = (string) $room;
        } else {
            $payload['roomKey'] = (string) $room;
        }
        if ($senderId !== null) {
            $payload['senderId'] = (string) $senderId;
        }
        return $this->call('POST', '/api/server/messages', $payload)['message'];
    }

    /**
     * Uploads a file as $userId, to send with postMessage(..., $userId, [$file['id']]). The user's
     * own limits apply (FILES_MAX_BYTES, their FILES_QUOTA_BYTES); a file no message carries is
     * removed after 24 hours. The type is read from the bytes by the chat server, never from the
     * name. The file is read into memory here, so keep PHP's memory_limit above FILES_MAX_BYTES.
     * Returns ['id' => …, 'name' => …, 'size' => …, 'type' => …, 'url' => …, …].
     *
     * @param int|string  $userId
     * @param string      $path the file on this machine
     * @param string|null $name the name people see (default: the file's own name)
     */
    public function uploadFile($userId, string $path, ?string $name = null): array
    {
        $bytes = @file_get_contents($path);
        if ($bytes === false) {
            throw new TimeWiseChatError("Cannot read the file $path.", 'BAD_REQUEST', 0);
        }
        $boundary = 'twc-' . bin2hex(random_bytes(12));
        // quotes and line breaks would end the header early: never part of a name people need
        $shown = str_replace(['"', "\r", "\n"], ['%22', '', ''], $name ?? basename($path));
        $content = "--$boundary\r\n"
            . "Content-Disposition: form-data; name=\"file\"; filename=\"$shown\"\r\n"
            . "Content-Type: application/octet-stream\r\n\r\n"
            . $bytes . "\r\n--$boundary--\r\n";
        $route = '/api/server/users/' . rawurlencode((string) $userId) . '/files';
        return $this->request('POST', $route, $content, "multipart/form-data; boundary=$boundary", max($this->timeout, 60))['file'];
    }

    /**
     * Creates or updates the group room mirrored under $key (such as `team:42`) so that it has
     * exactly these members. Safe to call on every change, or on every save: an unchanged room
     * stays as it is. $options: 'ownerId' => id, 'adminIds' => [ids].
     * Returns ['room' => …, 'created' => bool, 'changed' => bool, 'added' => [], 'removed' => [], 'skipped' => []].
     */
    public function syncRoom(string $key, string $name, array $memberIds, array $options = []): array
    {
        $payload = ['name' => $name, 'memberIds' => array_values(array_map('strval', $memberIds))];
        if (isset($options['ownerId'])) {
            $payload['ownerId'] = (string) $options['ownerId'];
        }
        if (isset($options['adminIds'])) {
            $payload['adminIds'] = array_values(array_map('strval', $options['adminIds']));
        }
        return $this->call('PUT', '/api/server/rooms/' . rawurlencode($key), $payload);
    }

    /**
     * Attaches a conversation to one of the app's records (a timesheet, a leave request, a shift,
     * a project), or brings it up to date: named $title, linking back to $url (http or https), with
     * exactly $memberIds in it. One record always has one room, so call it on every save, or when
     * someone clicks "Discuss": people you leave out lose the room at once (their open chats, its
     * history and files), people you add get it at once. Chat users can't leave, rename or change
     * the members of such a room.
     * $kind: lower-case letters, digits, _ or - (such as 'timesheet'); $id: letters, digits, _ . : -
     * Returns ['room' => …, 'created' => bool, 'changed' => bool, 'added' => [], 'removed' => [], 'skipped' => []];
     * the page finds the room with `ask("room:record", { kind, recordId })`.
     *
     * @param int|string $id
     */
    public function recordConversation(string $kind, $id, string $title, string $url, array $memberIds): array
    {
        $payload = ['title' => $title, 'url' => $url, 'memberIds' => array_values(array_map('strval', $memberIds))];
        return $this->call('PUT', '/api/server/records/' . rawurlencode($kind) . '/' . rawurlencode((string) $id), $payload);
    }

    /** The mirrored room with this key, or null. */
    public function room(string $key): ?array
    {
        try {
            return $this->call('GET', '/api/server/rooms/' . rawurlencode($key))['room'];
        } catch (TimeWiseChatError $e) {
            if ($e->errorCode === 'NOT_FOUND') {
                return null;
            }
            throw $e;
        }
    }

    /**
     * A user's unread messages and mentions: ['total' => 3, 'mentions' => 1,
     *   'rooms' => [['roomId' => '12', 'unread' => 2, 'mentions' => 1], …]].
     * Cheap (the chat server answers from memory): fine to call on every page for a badge.
     *
     * @param int|string $userId
     */
    public function unread($userId): array
    {
        return $this->call('GET', '/api/server/users/' . rawurlencode((string) $userId) . '/unread');
    }

    /**
     * Disconnects the user everywhere now and refuses the chat tokens issued to them so far
     * (call it on logout and when banning). Tokens minted afterwards work.
     *
     * @param int|string $userId
     */
    public function disconnect($userId): void
    {
        $this->call('POST', '/api/server/users/' . rawurlencode((string) $userId) . '/disconnect', []);
    }

    /**
     * Sets a user's working hours, or removes them with null. Outside them the chat holds the user's
     * emails, push notifications and `notification` webhooks, and sends one digest when work starts;
     * people who share a room with them see they are off, and until when. Either every week:
     *   ['timeZone' => 'Europe/Lisbon', 'weekly' => ['mon' => [['08:00', '16:30']], 'tue' => …]]
     * or shifts (ISO times, as a roster has them):
     *   ['timeZone' => 'Europe/Lisbon', 'shifts' => [['start' => '2026-12-08T06:00:00Z', 'end' => '2026-12-08T14:00:00Z'], …]]
     * Returns ['userId' => …, 'schedule' => … or null, 'available' => bool, 'availableAt' => ISO time or null],
     * what the schedule means right now. Throws BAD_REQUEST for a schedule that makes no sense
     * (an unknown time zone, 25:00, an end before its start), NOT_FOUND for an unknown user.
     *
     * @param int|string $userId
     */
    public function setSchedule($userId, ?array $schedule): array
    {
        $route = '/api/server/users/' . rawurlencode((string) $userId) . '/schedule';
        // null is the body here ("no schedule"), so it is sent as JSON rather than left out
        return $this->request('PUT', $route, json_encode($schedule), 'application/json', $this->timeout);
    }

    /**
     * Urgent messages, oldest first, for an audit of who broke through working hours and when:
     * [['messageId' => '41', 'roomId' => '3', 'senderId' => '12', 'at' => '2026-…Z'], …]
     * ('senderId' is '0' for TimeWise itself). $since: only those sent at or after it (a
     * DateTimeInterface, or an ISO time in UTC such as '2026-12-01T00:00:00Z'). At most $limit
     * (1 to 1000, default 100): ask again from the last one's 'at' for more.
     *
     * @param DateTimeInterface|string|null $since
     */
    public function urgentMessages($since = null, int $limit = 100): array
    {
        $query = ['limit' => $limit];
        if ($since instanceof DateTimeInterface) {
            // the chat server takes UTC times with a Z
            $query['since'] = (new DateTimeImmutable('@' . $since->format('U.u')))->format('Y-m-d\TH:i:s.v\Z');
        } elseif ($since !== null) {
            $query['since'] = (string) $since;
        }
        return $this->call('GET', '/api/server/urgent?' . http_build_query($query))['urgent'];
    }

    // --- The page ------------------------------------------------------------------------------

    /**
     * The HTML to put on a page: loads the Socket.io client from the chat server and connects.
     * Options: 'token' => a chat token (else the PHP session cookie is used, when the chat server
     * accepts it), 'global' => the JavaScript name to expose (default "timewiseChat").
     * On the page: `timewiseChat.socket` (a Socket.io socket) and `timewiseChat.ask(event, payload)`.
     */
    public function embed(array $options = []): string
    {
        $config = ['url' => $this->url, 'token' => $options['token'] ?? null];
        $global = preg_match('/^[A-Za-z_$][A-Za-z0-9_$]*$/', (string) ($options['global'] ?? '')) ? $options['global'] : 'timewiseChat';
        $json = json_encode($config, JSON_HEX_TAG | JSON_HEX_AMP | JSON_HEX_APOS | JSON_HEX_QUOT | JSON_UNESCAPED_SLASHES);
        $src = htmlspecialchars($this->url . '/socket.io/socket.io.min.js', ENT_QUOTES);
        return <<<HTML
<script src="$src"></script>
<script>
window.$global = (function (config) {
  var socket = io(config.url, config.token
    ? { auth: { token: config.token } }
    : { withCredentials: true });
  function ask(event, payload) {
    return socket.timeout(10000).emitWithAck(event, payload || {}).then(function (answer) {
      if (!answer.ok) throw Object.assign(new Error(answer.error.message), answer.error);
      return answer;
    });
  }
  return { socket: socket, ask: ask };
})($json);
</script>
HTML;
    }

    // --- Web Push ------------------------------------------------------------------------------

    /**
     * Answers a PHP route with the chat's service worker, so browser notifications come from your
     * app's own origin when the chat is embedded in your pages. One line in, say, chat-sw.php:
     *
     *     $chat->serveServiceWorker(['page' => '/chat.php']);
     *
     * and register it from the page with `navigator.serviceWorker.register('/chat-sw.php')`.
     * The script is fetched from the chat server (GET /sw.js, no key needed) and kept in
     * $options['cacheDir'] (default the system temp folder) for $options['cacheSeconds'] (default
     * 3600), so most requests never leave your server. A click on a notification opens
     * $options['page'] (a path on your site) at the room; without it, the chat's own page.
     * $options['scope'] sends Service-Worker-Allowed, for a worker that must control a wider path
     * than the folder of its route.
     */
    public function serveServiceWorker(array $options = []): void
    {
        $script = $this->serviceWorkerScript($options);
        header('Content-Type: text/javascript; charset=utf-8');
        header('Cache-Control: no-cache');
        header('X-Content-Type-Options: nosniff');
        if (isset($options['scope']) && preg_match('#^/[A-Za-z0-9._~/-]*$#', (string) $options['scope'])) {
            header('Service-Worker-Allowed: ' . $options['scope']);
        }
        echo $script;
    }

    /**
     * The service worker script as serveServiceWorker() sends it (fetched once per cacheSeconds).
     * With $options['page'], the worker opens that path when a notification is clicked.
     */
    public function serviceWorkerScript(array $options = []): string
    {
        $seconds = (int) ($options['cacheSeconds'] ?? 3600);
        $dir = (string) ($options['cacheDir'] ?? sys_get_temp_dir());
        $file = rtrim($dir, '/\\') . '/timewise-chat-sw-' . md5($this->url) . '.js';
        $cached = is_file($file) && filemtime($file) > time() - $seconds ? @file_get_contents($file) : false;
        if ($cached === false) {
            $context = stream_context_create(['http' => ['method' => 'GET', 'timeout' => $this->timeout, 'ignore_errors' => true]]);
            $http_response_header = [];
            $fetched = @file_get_contents($this->url . '/sw.js', false, $context);
            $lines = function_exists('http_get_last_response_headers') ? (http_get_last_response_headers() ?? []) : $http_response_header;
            $ok = $fetched !== false && isset($lines[0]) && preg_match('#^HTTP/\S+\s+200\b#', $lines[0]);
            if (!$ok) {
                // an older copy is better than no notifications while the chat server is away
                $stale = is_file($file) ? @file_get_contents($file) : false;
                if ($stale === false) {
                    throw new TimeWiseChatError('The chat server cannot be reached for its service worker.', 'UNAVAILABLE', 0);
                }
                $fetched = $stale;
            } else {
                @file_put_contents($file . '.tmp', $fetched);
                @rename($file . '.tmp', $file);
            }
            $cached = $fetched;
        }
        $page = (string) ($options['page'] ?? '');
        if ($page === '') {
            return $cached;
        }
        if (!preg_match('#^/[A-Za-z0-9._~/%-]*$#', $page)) {
            throw new TimeWiseChatError('The page must be a path on your site, such as /chat.php.', 'BAD_REQUEST', 0);
        }
        // the worker reads its own address's ?page=, exactly as if it had been registered so
        return 'self.__twcPage=' . json_encode($page, JSON_UNESCAPED_SLASHES) . ";\n" . $cached;
    }

    // --- Webhooks ------------------------------------------------------------------------------

    /**
     * Checks a webhook from the chat server and returns the event:
     * ['id' => …, 'type' => 'message.created'|'presence.changed'|'room.updated'|'notification', 'createdAt' => …, 'data' => […]].
     * Throws TimeWiseChatError: AUTH_INVALID for a missing or wrong signature, AUTH_EXPIRED for a
     * timestamp more than $tolerance seconds away (a replay), BAD_REQUEST for a body that is not an event.
     * A retry carries the same 'id': remember the ids you processed (see rememberDelivery()).
     *
     * @param string $body    the raw request body: file_get_contents('php://input'), before json_decode
     * @param array  $headers header name => value (any case); requestHeaders() reads them from $_SERVER
     */
    public static function verifyWebhook(string $secret, string $body, array $headers, int $tolerance = 300, ?int $now = null): array
    {
        $headers = array_change_key_case($headers, CASE_LOWER);
        $timestamp = (string) ($headers['x-timewise-timestamp'] ?? '');
        $signature = (string) ($headers['x-timewise-signature'] ?? '');
        if (!preg_match('/^\d{1,12}$/', $timestamp) || $signature === '') {
            throw new TimeWiseChatError('The webhook is not signed.', 'AUTH_INVALID', 401);
        }
        $expected = 'sha256=' . hash_hmac('sha256', $timestamp . '.' . $body, $secret);
        if (!hash_equals($expected, $signature)) {
            throw new TimeWiseChatError('The webhook signature is wrong.', 'AUTH_INVALID', 401);
        }
        if (abs(($now ?? time()) - (int) $timestamp) > $tolerance) {
            throw new TimeWiseChatError('The webhook is too old (replayed?).', 'AUTH_EXPIRED', 401);
        }
        $event = json_decode($body, true);
        if (!is_array($event) || !isset($event['id'], $event['type']) || !array_key_exists('data', $event)) {
            throw new TimeWiseChatError('The webhook body is not an event.', 'BAD_REQUEST', 400);
        }
        return $event;
    }

    /**
     * For a verified `notification` webhook (someone missed messages: they stayed unread past the
     * user's delay, as for the email digest), what to tell them through the app's own channels:
     *   ['userId' => '7', 'messages' => [['id' => '41', 'roomId' => '3', 'senderId' => '12',
     *     'body' => 'Can you check the timesheet?', 'createdAt' => '2026-…Z', 'mentioned' => true], …]]
     * Null for every other event type. Throws TimeWiseChatError BAD_REQUEST when the data is not
     * that shape. A retry carries the same event id: use rememberDelivery() so nobody is told twice.
     */
    public static function notificationOf(array $event): ?array
    {
        if (($event['type'] ?? null) !== 'notification') {
            return null;
        }
        $data = $event['data'] ?? null;
        if (!is_array($data) || !is_string($data['userId'] ?? null) || !is_array($data['messages'] ?? null)) {
            throw new TimeWiseChatError('The notification webhook has no userId and messages.', 'BAD_REQUEST', 400);
        }
        $messages = [];
        foreach ($data['messages'] as $m) {
            if (!is_array($m) || !is_string($m['id'] ?? null) || !is_string($m['roomId'] ?? null)
                || !is_string($m['senderId'] ?? null) || !is_string($m['body'] ?? null)
                || !is_string($m['createdAt'] ?? null) || !is_bool($m['mentioned'] ?? null)) {
                throw new TimeWiseChatError('A message of the notification webhook is not complete.', 'BAD_REQUEST', 400);
            }
            $messages[] = [
                'id' => $m['id'],
                'roomId' => $m['roomId'],
                'senderId' => $m['senderId'],
                'body' => $m['body'],
                'createdAt' => $m['createdAt'],
                'mentioned' => $m['mentioned'],
            ];
        }
        return ['userId' => $data['userId'], 'messages' => $messages];
    }

    /** The request's headers, lower-cased, from $_SERVER (works under PHP-FPM, Apache and the built-in server). */
    public static function requestHeaders(): array
    {
        $headers = [];
        foreach ($_SERVER as $name => $value) {
            if (is_string($value) && strncmp((string) $name, 'HTTP_', 5) === 0) {
                $headers[strtolower(str_replace('_', '-', substr((string) $name, 5)))] = $value;
            }
        }
        return $headers;
    }

    /**
     * Remembers a delivery id in $dir; false when it was seen before (a retry or a replay: answer
     * 200 and do nothing). Safe across PHP workers: the file is created atomically.
     */
    public static function rememberDelivery(string $deliveryId, string $dir): bool
    {
        if (!is_dir($dir) && !@mkdir($dir, 0700, true) && !is_dir($dir)) {
            throw new TimeWiseChatError("Cannot create $dir.", 'UNAVAILABLE', 0);
        }
        $file = $dir . '/' . hash('sha256', $deliveryId);
        $handle = @fopen($file, 'x');
        if ($handle === false) {
            return false;
        }
        fclose($handle);
        return true;
    }

    // --- Internals -----------------------------------------------------------------------------

    private function call(string $method, string $path, ?array $body = null): array
    {
        if ($body === null) {
            return $this->request($method, $path, null, null, $this->timeout);
        }
        return $this->request($method, $path, json_encode($body === [] ? new stdClass() : $body), 'application/json', $this->timeout);
    }

    private function request(string $method, string $path, ?string $content, ?string $type, int $timeout): array
    {
        if ($this->serviceKey === null || $this->serviceKey === '') {
            throw new TimeWiseChatError('The server API needs the chat server\'s SERVICE_API_KEY.', 'AUTH_REQUIRED', 0);
        }
        $headers = ['Authorization: Bearer ' . $this->serviceKey, 'Accept: application/json'];
        $http = ['method' => $method, 'timeout' => $timeout, 'ignore_errors' => true];
        if ($content !== null) {
            $http['content'] = $content;
            $headers[] = 'Content-Type: ' . $type;
        }
        $http['header'] = implode("\r\n", $headers);
        $http_response_header = [];
        $response = @file_get_contents($this->url . $path, false, stream_context_create(['http' => $http]));
        $lines = function_exists('http_get_last_response_headers') ? (http_get_last_response_headers() ?? []) : $http_response_header;
        if ($response === false || !isset($lines[0]) || !preg_match('#^HTTP/\S+\s+(\d{3})#', $lines[0], $m)) {
            throw new TimeWiseChatError('The chat server cannot be reached.', 'UNAVAILABLE', 0);
        }
        $status = (int) $m[1];
        $decoded = json_decode($response, true);
        if ($status >= 200 && $status < 300 && is_array($decoded)) {
            return $decoded;
        }
        $error = is_array($decoded) && isset($decoded['error']) ? $decoded['error'] : [];
        throw new TimeWiseChatError((string) ($error['message'] ?? "HTTP $status"), (string) ($error['code'] ?? 'INTERNAL'), $status);
    }

    private static function base64url(string $bytes): string
    {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }
}
