/**
 * PostgreSQL migration 8 (v2.3): mentions on messages, each member's notification setting, and
 * users' notification preferences. Kept in its own file because it has to touch the send path:
 * chat_message_json takes the messages row type, so PostgreSQL refuses to ALTER the table while
 * it exists. chat_message_json and chat_send are dropped, the table changed, and they are created
 * again with exactly one change each, marked "v2.3" below; chat_send_item (migration 7) is
 * replaced to pass the new fields on:
 * - chat_message_json puts `mentions` and `mentionsAll` on the wire (STABLE, as migration 7 made it);
 * - chat_send takes them (p_mentions, p_mentions_all; defaults: nobody) and stores them;
 * - chat_send_item passes each item's `mentions` and `mentionsAll` on. chat_send_batch and
 *   chat_send_many (migration 7) call chat_send_item, so they stay as they are.
 * Everything else in them is migrations 4, 5 and 7 as they were.
 */
export const MENTIONS_MIGRATION = `
  DROP FUNCTION chat_send(BIGINT, TEXT, TEXT, TEXT, TEXT, BOOLEAN, BIGINT, TEXT, TEXT);
  DROP FUNCTION chat_message_json(messages);

  -- who a message mentions (JSON array of user ids, resolved by the server) and @all/@here;
  -- both cleared when the message is deleted
  ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE messages ADD COLUMN mentions_all BOOLEAN NOT NULL DEFAULT FALSE;
  -- only the messages that mention anyone: a member's unread mentions are a short range of it
  CREATE INDEX messages_mentioning ON messages (room_id, seq) WHERE mentions_all OR mentions <> '[]';
  -- each member's notification setting for the room
  ALTER TABLE members ADD COLUMN notify TEXT NOT NULL DEFAULT 'all' CHECK (notify IN ('all', 'mentions', 'none'));
  -- the settings a user changed (NULL: the default)
  CREATE TABLE user_prefs (
    user_id TEXT PRIMARY KEY,
    email TEXT CHECK (email IN ('off', 'digest')),
    email_delay_min INTEGER,
    push BOOLEAN
  );
  -- the built-in directory's email addresses (never sent to other users)
  ALTER TABLE directory_users ADD COLUMN email TEXT;

  CREATE FUNCTION chat_message_json(m messages) RETURNS json
    LANGUAGE sql STABLE
    RETURN json_build_object('id', m.id::text, 'roomId', m.room_id::text, 'seq', m.seq, 'rev', m.rev,
      'senderId', m.sender_id, 'body', m.body, 'clientId', m.client_id, 'replyToId', m.reply_to_id::text,
      'createdAt', m.created_at, 'editedAt', m.edited_at, 'deleted', m.deleted, 'reactions', m.reactions::json,
      -- v2.3
      'mentions', m.mentions::json, 'mentionsAll', m.mentions_all);

  CREATE FUNCTION chat_send(
    p_room BIGINT,
    p_room_text TEXT,
    p_sender TEXT,
    p_body TEXT,
    p_client_id TEXT,
    p_has_reply BOOLEAN,
    p_reply_to BIGINT,
    p_at TEXT,
    p_tag TEXT,
    p_mentions TEXT DEFAULT '[]',      -- v2.3: JSON array of the mentioned member ids
    p_mentions_all BOOLEAN DEFAULT FALSE -- v2.3: @all or @here in a group
  ) RETURNS json
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
  AS $fn$
  DECLARE
    v_found messages%ROWTYPE;
    v_seq BIGINT;
    v_rev BIGINT;
    v_id BIGINT;
    v_message json;
    v_payload TEXT;
  BEGIN
    IF p_client_id IS NOT NULL THEN
      SELECT * INTO v_found FROM messages WHERE sender_id = p_sender AND client_id = p_client_id;
      IF FOUND THEN
        IF v_found.room_id::text <> p_room_text THEN
          RAISE EXCEPTION 'clientId used in another room' USING ERRCODE = 'TW409';
        END IF;
        RETURN json_build_object('created', false, 'message', chat_message_json(v_found));
      END IF;
    END IF;
    SELECT last_seq + 1, rev + 1 INTO v_seq, v_rev FROM rooms WHERE id = p_room AND NOT closed FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'room not found' USING ERRCODE = 'TW404';
    END IF;
    IF p_client_id IS NOT NULL THEN
      SELECT * INTO v_found FROM messages WHERE sender_id = p_sender AND client_id = p_client_id;
      IF FOUND THEN
        IF v_found.room_id::text <> p_room_text THEN
          RAISE EXCEPTION 'clientId used in another room' USING ERRCODE = 'TW409';
        END IF;
        RETURN json_build_object('created', false, 'message', chat_message_json(v_found));
      END IF;
    END IF;
    IF p_has_reply AND NOT EXISTS (SELECT 1 FROM messages WHERE id = p_reply_to AND room_id = p_room) THEN
      RAISE EXCEPTION 'bad replyToId' USING ERRCODE = 'TW400';
    END IF;
    UPDATE rooms SET last_seq = v_seq, rev = v_rev, last_activity_at = p_at WHERE id = p_room;
    -- v2.3: mentions, mentions_all
    INSERT INTO messages (room_id, seq, rev, sender_id, body, client_id, reply_to_id, created_at, mentions, mentions_all)
      VALUES (p_room, v_seq, v_rev, p_sender, p_body, p_client_id, p_reply_to, p_at,
        COALESCE(p_mentions, '[]'), COALESCE(p_mentions_all, FALSE))
      RETURNING * INTO v_found;
    UPDATE members SET own_after_read = own_after_read + 1 WHERE room_id = p_room AND user_id = p_sender;
    v_message := chat_message_json(v_found);
    v_payload := chat_feed_event(p_room, v_rev, v_message, p_tag)::text;
    IF octet_length(v_payload) > 7999 THEN
      v_payload := chat_feed_event(p_room, v_rev, NULL, p_tag)::text;
    END IF;
    PERFORM pg_notify('timewise_chat', v_payload);
    RETURN json_build_object('created', true, 'message', v_message);
  END
  $fn$;

  -- migration 7's chat_send_item, passing the mentions on
  CREATE OR REPLACE FUNCTION chat_send_item(p_item jsonb) RETURNS json
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
  AS $fn$
  DECLARE
    v_room BIGINT := (p_item->>'room')::bigint;
  BEGIN
    IF (p_item->>'member')::boolean THEN
      PERFORM 1 FROM rooms WHERE id = v_room FOR UPDATE;
      IF NOT EXISTS (SELECT 1 FROM members mb JOIN rooms r ON r.id = mb.room_id
          WHERE mb.room_id = v_room AND mb.user_id = p_item->>'sender' AND NOT r.closed) THEN
        RETURN json_build_object('error', 'TW404', 'constraint', NULL);
      END IF;
    END IF;
    RETURN chat_send(v_room, p_item->>'roomText', p_item->>'sender', p_item->>'body',
      p_item->>'clientId', (p_item->>'hasReply')::boolean, (p_item->>'replyTo')::bigint,
      p_item->>'at', p_item->>'tag',
      -- v2.3
      p_item->>'mentions', (p_item->>'mentionsAll')::boolean);
  END
  $fn$;
`;
