/**
 * PostgreSQL migration 8 (v2.3): mentions on messages, each member's notification setting, and
 * users' notification preferences. Kept in its own file because it has to touch the send path:
 * chat_message_json takes the messages row type, so PostgreSQL refuses to ALTER the table while
 * it exists. The three send functions of migrations 4 and 5 are dropped, the table changed, and
 * the functions created again with exactly one change each, marked "v2.3" below:
 * - chat_message_json puts `mentions` and `mentionsAll` on the wire;
 * - chat_send takes them (p_mentions, p_mentions_all; defaults: nobody) and stores them;
 * - chat_send_batch passes each item's `mentions` and `mentionsAll` on.
 * Everything else in them is migrations 4 and 5 as they were.
 */
export const MENTIONS_MIGRATION = `
  DROP FUNCTION chat_send_batch(json);
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
    LANGUAGE sql IMMUTABLE
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

  CREATE FUNCTION chat_send_batch(p_items json) RETURNS json
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
  AS $fn$
  DECLARE
    v_item record;
    v_results json[] := array_fill(NULL::json, ARRAY[json_array_length(p_items)]);
    v_state TEXT;
    v_constraint TEXT;
  BEGIN
    FOR v_item IN
      SELECT value AS i, ordinality AS n FROM json_array_elements(p_items) WITH ORDINALITY
      ORDER BY (value->>'room')::bigint NULLS FIRST, ordinality
    LOOP
      BEGIN
        v_results[v_item.n] := chat_send((v_item.i->>'room')::bigint, v_item.i->>'roomText',
          v_item.i->>'sender', v_item.i->>'body', v_item.i->>'clientId', (v_item.i->>'hasReply')::boolean,
          (v_item.i->>'replyTo')::bigint, v_item.i->>'at', v_item.i->>'tag',
          -- v2.3
          v_item.i->>'mentions', (v_item.i->>'mentionsAll')::boolean);
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_constraint = CONSTRAINT_NAME;
        v_results[v_item.n] := json_build_object('error', v_state, 'constraint', v_constraint);
      END;
    END LOOP;
    RETURN array_to_json(v_results);
  END
  $fn$;
`;
