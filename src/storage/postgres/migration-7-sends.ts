/**
 * PostgreSQL migration 7: what a send costs inside PostgreSQL, about halved (docs/performance.md,
 * "Faster sends on PostgreSQL"), with the same rules and the same results as migrations 4 and 5.
 * A perf profile of the database process under chat_send_batch showed where its time went:
 *
 * 1. chat_message_json and chat_feed_event were declared IMMUTABLE, but json_build_object is only
 *    STABLE, so PostgreSQL would not inline them and read their stored bodies back (decompress,
 *    parse, plan) on every call: about a third of a send. Declared STABLE, as they are, they are
 *    inlined into chat_send's cached plans.
 * 2. The stored generated column search_vector set up its expression again for every INSERT
 *    statement (every send is its own INSERT inside chat_send). A BEFORE trigger computes the
 *    same value (to_tsvector('simple', twc_search_text(body))) from a cached plan; existing rows
 *    keep theirs.
 * 3. A subtransaction per send (BEGIN … EXCEPTION), needed only so a failing send leaves the
 *    others alone, costs on every send, and a room's row locked by one subtransaction and locked
 *    again by the next makes a MultiXact each time. chat_send_many runs the sends of a call
 *    without them: a send that can't be stored fails the whole call, nothing of it is kept, and
 *    the node runs the same sends again through chat_send_batch, one subtransaction each.
 *    A sender who is not a member is answered without an error, so it never costs that rerun.
 *
 * Both batch functions read each send through chat_send_item (the membership check and the call
 * of chat_send): a field added to a send goes into chat_send and chat_send_item only. The items
 * are read as jsonb once, not re-parsed from json text for every field.
 */
export const FASTER_SENDS = `
  ALTER FUNCTION chat_message_json(messages) STABLE;
  ALTER FUNCTION chat_feed_event(BIGINT, BIGINT, json, TEXT) STABLE;

  ALTER TABLE messages ALTER COLUMN search_vector DROP EXPRESSION;
  -- names qualified: a trigger runs with whatever search_path the writing session has
  CREATE FUNCTION twc_message_search_vector() RETURNS trigger
    LANGUAGE plpgsql
    AS $fn$
    BEGIN
      NEW.search_vector := pg_catalog.to_tsvector('simple'::pg_catalog.regconfig, public.twc_search_text(NEW.body));
      RETURN NEW;
    END
    $fn$;
  CREATE TRIGGER messages_search_vector BEFORE INSERT OR UPDATE OF body ON messages
    FOR EACH ROW EXECUTE FUNCTION twc_message_search_vector();

  -- one send of a batch (the item's fields as SendBatcher in message-writes.ts writes them). With
  -- "member": true the room is locked first, then the sender's membership read under that lock
  -- (so a removal that committed first is seen); not a member, or no open room: TW404 as a
  -- result, without raising, as nothing was written
  CREATE FUNCTION chat_send_item(p_item jsonb) RETURNS json
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
      p_item->>'at', p_item->>'tag');
  END
  $fn$;

  -- as in migration 5: rooms in ascending id order, a room's sends in their order, one
  -- subtransaction per send so one that fails gives its own error and leaves the others alone
  -- (each item becomes jsonb inside its own, so even an item PostgreSQL can't read fails alone)
  CREATE OR REPLACE FUNCTION chat_send_batch(p_items json) RETURNS json
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
        v_results[v_item.n] := chat_send_item(v_item.i::jsonb);
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_constraint = CONSTRAINT_NAME;
        v_results[v_item.n] := json_build_object('error', v_state, 'constraint', v_constraint);
      END;
    END LOOP;
    RETURN array_to_json(v_results);
  END
  $fn$;

  -- the same in one piece: any send that raises fails the whole call (nothing of it is kept)
  CREATE FUNCTION chat_send_many(p_items json) RETURNS json
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
  AS $fn$
  DECLARE
    v_item record;
    v_results json[] := array_fill(NULL::json, ARRAY[json_array_length(p_items)]);
  BEGIN
    FOR v_item IN
      SELECT value AS i, ordinality AS n FROM jsonb_array_elements(p_items::jsonb) WITH ORDINALITY
      ORDER BY (value->>'room')::bigint NULLS FIRST, ordinality
    LOOP
      v_results[v_item.n] := chat_send_item(v_item.i);
    END LOOP;
    RETURN array_to_json(v_results);
  END
  $fn$;
`;
