/**
 * Type-level checks of the client SDK, compiled by `npm run typecheck` (not run): its requests,
 * events and errors are typed from the contract module, so drift fails the build here.
 */
import type { ChatFile, ErrorCode, Message, Requests, Room } from "../../src/protocol/index.js";
import type { ChatClient, ChatError } from "../../src/sdk/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

export function checks(chat: ChatClient): void {
  // a request resolves with exactly the contract's result for that event
  expectType<Equal<Awaited<ReturnType<typeof chat.request<"room:get">>>, Requests["room:get"]["result"]>>(
    true,
  );
  expectType<Equal<Awaited<ReturnType<typeof chat.request<"room:get">>>, { room: Room }>>(true);
  expectType<Equal<Awaited<ReturnType<typeof chat.send>>, Message>>(true);
  // @ts-expect-error an event the contract does not have
  void chat.request("room:nope", {});
  // @ts-expect-error a payload of the wrong shape
  void chat.request("room:get", { room: "1" });
  chat.on("message:new", (message: Message) => void message.seq);
  // @ts-expect-error a listener for the wrong payload
  chat.on("message:new", (message: string) => void message);
  expectType<Equal<ChatError["code"], ErrorCode>>(true);
  // an upload resolves with the contract's File, and its id goes with a message
  expectType<Equal<Awaited<ReturnType<typeof chat.uploadFile>>, ChatFile>>(true);
  void chat.send("1", "", { fileIds: ["2"] });
  // @ts-expect-error file ids are strings, as the server issues them
  void chat.send("1", "", { fileIds: [2] });
}
