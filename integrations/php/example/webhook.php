<?php
/**
 * Receives TimeWise Chat webhooks (set the chat server's WEBHOOK_URL to this page's address and
 * WEBHOOK_SECRET to the same secret as here).
 */
declare(strict_types=1);
require __DIR__ . '/../TimeWiseChat.php';

try {
    $event = TimeWiseChat::verifyWebhook((string) getenv('WEBHOOK_SECRET'), (string) file_get_contents('php://input'), TimeWiseChat::requestHeaders());
} catch (TimeWiseChatError $e) {
    http_response_code($e->status ?: 400);
    exit;
}
// A retry of something already handled: say yes, do nothing.
if (!TimeWiseChat::rememberDelivery($event['id'], sys_get_temp_dir() . '/timewise-chat-webhooks')) {
    http_response_code(200);
    exit;
}
switch ($event['type']) {
    case 'message.created':   // $event['data']['message']: roomId, senderId, body, …
    case 'room.updated':      // $event['data']['room'], $event['data']['externalKey']
    case 'presence.changed':  // $event['data']['userId'], ['online'], ['lastSeenAt']
        error_log('TimeWise Chat: ' . $event['type']);
        break;
    case 'notification':      // someone away missed messages: tell them your own way (SMS, app push, …)
        $missed = TimeWiseChat::notificationOf($event);
        error_log('TimeWise Chat: user ' . $missed['userId'] . ' missed ' . count($missed['messages']) . ' message(s)');
        break;
}
http_response_code(204);
