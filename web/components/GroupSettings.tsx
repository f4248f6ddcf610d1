/**
 * Manage a group: rename it, add and remove people, make someone an admin, or leave. Only what
 * the contract lets my role do is offered (owner and admins manage; the owner sets roles).
 */
import { useState } from "preact/hooks";
import type { Member, Room } from "../../src/sdk/index.js";
import { useAction, useClient } from "../hooks.js";
import { Dialog } from "./Dialog.js";
import { UserPicker } from "./UserPicker.js";

const ROLE_NAMES = { owner: "Owner", admin: "Admin", member: "" } as const;

export function GroupSettingsDialog({ room, onClose }: { room: Room; onClose: () => void }) {
  const client = useClient();
  const me = client.state.me?.id;
  const myRole = room.members.find((m) => m.userId === me)?.role ?? "member";
  const manages = myRole === "owner" || myRole === "admin";
  const [name, setName] = useState(room.name ?? "");
  const [adding, setAdding] = useState(false);
  const [act, error, busy] = useAction((run: () => Promise<unknown>) => run());

  const canRemove = (m: Member) =>
    m.userId !== me &&
    m.role !== "owner" &&
    (myRole === "owner" || (myRole === "admin" && m.role === "member"));

  return (
    <Dialog title="Group settings" onClose={onClose}>
      <div class="stack">
        {manages ? (
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              void act(() => client.request("room:update", { roomId: room.id, name: name.trim() }));
            }}
          >
            <label class="field grow">
              <span>Group name</span>
              <input value={name} required maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
            </label>
            <button type="submit" disabled={busy || name.trim() === "" || name.trim() === room.name}>
              Save name
            </button>
          </form>
        ) : (
          <p>Only the group's owner and admins can change its name and members.</p>
        )}
        <h3 class="small-heading">People ({room.memberCount ?? room.members.length})</h3>
        <ul class="member-list" aria-label="People in this group">
          {room.members.map((m) => (
            <li key={m.userId}>
              <span class="grow">
                <bdi>{m.name}</bdi>
                {m.userId === me && " (you)"}
                {ROLE_NAMES[m.role] && <span class="role"> · {ROLE_NAMES[m.role]}</span>}
              </span>
              {myRole === "owner" && m.role !== "owner" && (
                <button
                  type="button"
                  disabled={busy}
                  aria-label={m.role === "admin" ? `Make ${m.name} a member` : `Make ${m.name} an admin`}
                  onClick={() =>
                    void act(() =>
                      client.request("room:setRole", {
                        roomId: room.id,
                        userId: m.userId,
                        role: m.role === "admin" ? "member" : "admin",
                      }),
                    )
                  }
                >
                  {m.role === "admin" ? "Make member" : "Make admin"}
                </button>
              )}
              {manages && canRemove(m) && (
                <button
                  type="button"
                  disabled={busy}
                  aria-label={`Remove ${m.name} from the group`}
                  onClick={() =>
                    void act(() => client.request("room:removeMember", { roomId: room.id, userId: m.userId }))
                  }
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
        {manages &&
          (adding ? (
            <UserPicker
              label="Add people"
              actionLabel="Add"
              exclude={room.members.map((m) => m.userId)}
              onPick={(u) =>
                void act(() => client.request("room:addMembers", { roomId: room.id, userIds: [u.id] }))
              }
            />
          ) : (
            <button type="button" onClick={() => setAdding(true)}>
              Add people
            </button>
          ))}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button
          type="button"
          class="danger"
          disabled={busy}
          onClick={() => void act(() => client.request("room:leave", { roomId: room.id }))}
        >
          Leave group
        </button>
      </div>
    </Dialog>
  );
}
