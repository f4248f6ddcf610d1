/**
 * Type-level checks of the contract module, compiled by `npm run typecheck` (not run). A change to
 * the wire types that would break clients written against PROTOCOL.md fails the build here.
 */
import type {
  Ack,
  ChatFile,
  ClientToServerEvents,
  ErrorCode,
  Message,
  Requests,
  Room,
  ServerToClientEvents,
} from "../../src/protocol/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

// every message field the contract names, with its wire type
expectType<
  Equal<
    Message,
    {
      id: string;
      roomId: string;
      seq: number;
      rev: number;
      senderId: string;
      body: string;
      clientId: string | null;
      replyToId: string | null;
      createdAt: string;
      editedAt: string | null;
      deleted: boolean;
      reactions: Record<string, string[]>;
      files: ChatFile[];
      mentions: string[];
      mentionsAll: boolean;
    }
  >
>(true);

// every field of a file (PROTOCOL v2.2 File)
expectType<
  Equal<
    ChatFile,
    {
      id: string;
      name: string;
      size: number;
      type: string;
      width: number | null;
      height: number | null;
      url: string;
      thumbnailUrl: string | null;
    }
  >
>(true);

// a Room carries the per-user fields; room:updated carries the shared view without them
expectType<Equal<Room["unread"], number>>(true);
// v2.3: the caller's unread mentions and notification setting
expectType<Equal<Room["mentions"], number>>(true);
expectType<Equal<Room["notify"], "all" | "mentions" | "none">>(true);
type UpdatedRoom = Parameters<ServerToClientEvents["room:updated"]>[0];
// @ts-expect-error room:updated has no per-user unread count
const _unread: UpdatedRoom["unread"] = 0;

// acks are ok-discriminated
const ack = {} as Ack<Requests["message:send"]["result"]>;
if (ack.ok) expectType<Equal<typeof ack.message, Message>>(true);
else expectType<Equal<typeof ack.error.code, ErrorCode>>(true);

// payloads: server-decided fields are not part of what a client sends
type Send = Parameters<ClientToServerEvents["message:send"]>[0];
// @ts-expect-error senderId is decided by the server
const _send: Send = { roomId: "1", body: "hi", clientId: "c1", senderId: "2" };
// @ts-expect-error mentions are resolved by the server, never sent
const _mentions: Send = { roomId: "1", body: "hi @bob", clientId: "c2", mentions: ["2"] };
