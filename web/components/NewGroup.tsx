/** Create a group: a name and the people in it. */
import { useState } from "preact/hooks";
import type { User } from "../../src/sdk/index.js";
import { useAction, useClient, useFocusOnMount } from "../hooks.js";
import { Dialog } from "./Dialog.js";
import { UserPicker } from "./UserPicker.js";

export function NewGroupDialog({
  onClose,
  onOpen,
}: {
  onClose: () => void;
  onOpen: (roomId: string) => void;
}) {
  const client = useClient();
  const [name, setName] = useState("");
  const [members, setMembers] = useState<User[]>([]);
  const nameInput = useFocusOnMount<HTMLInputElement>();
  const [create, error, busy] = useAction(async () => {
    const { room } = await client.request("room:create", {
      name: name.trim(),
      memberIds: members.map((m) => m.id),
    });
    onOpen(room.id);
  });
  return (
    <Dialog title="New group" onClose={onClose}>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label class="field">
          <span>Group name</span>
          <input
            ref={nameInput}
            value={name}
            required
            maxLength={100}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <div>
          <h3 class="small-heading">People in the group</h3>
          {members.length === 0 ? (
            <p class="hint">Add people below.</p>
          ) : (
            <ul class="chips" aria-label="People in the group">
              {members.map((m) => (
                <li key={m.id}>
                  {m.name}
                  <button
                    type="button"
                    class="icon-button"
                    aria-label={`Remove ${m.name}`}
                    onClick={() => setMembers(members.filter((x) => x.id !== m.id))}
                  >
                    ×
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
        <UserPicker
          label="Add people"
          actionLabel="Add"
          focus={false}
          exclude={members.map((m) => m.id)}
          onPick={(u) => setMembers([...members, u])}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || name.trim() === ""}>
          Create group
        </button>
      </form>
    </Dialog>
  );
}
