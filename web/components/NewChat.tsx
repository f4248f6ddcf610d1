/** Start a direct chat with anyone: pick a person, and the chat opens. */
import type { User } from "../../src/sdk/index.js";
import { useAction, useClient } from "../hooks.js";
import { Dialog } from "./Dialog.js";
import { UserPicker } from "./UserPicker.js";

export function NewChatDialog({
  onClose,
  onOpen,
}: {
  onClose: () => void;
  onOpen: (roomId: string) => void;
}) {
  const client = useClient();
  const [start, error] = useAction(async (user: User) => {
    const { room } = await client.request("room:direct", { userId: user.id });
    onOpen(room.id);
  });
  return (
    <Dialog title="Start a chat" onClose={onClose}>
      <UserPicker label="Find a person" actionLabel="Chat with" onPick={(u) => void start(u)} />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
