/** Find people by name: a search box and a list of matches, each with one action. */
import { useEffect, useState } from "preact/hooks";
import type { User } from "../../src/sdk/index.js";
import { describeError, useClient, useFocusOnMount } from "../hooks.js";

export function UserPicker({
  label,
  actionLabel,
  exclude = [],
  focus = true,
  onPick,
}: {
  label: string;
  /** the words on each person's button, e.g. "Chat" or "Add" */
  actionLabel: string;
  exclude?: readonly string[];
  /** take the focus when shown (off when another field of the form comes first) */
  focus?: boolean;
  onPick: (user: User) => void;
}) {
  const client = useClient();
  const [query, setQuery] = useState("");
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const input = useFocusOnMount<HTMLInputElement>(focus);

  useEffect(() => {
    let current = true;
    // wait for a pause in typing, so each keystroke is not a request
    const timer = setTimeout(() => {
      client.request("user:search", { query: query.trim(), limit: 20 }).then(
        (r) => {
          if (!current) return;
          setUsers(r.users);
          setError(null);
        },
        (e: unknown) => current && setError(describeError(e)),
      );
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, client]);

  const shown = users?.filter((u) => !exclude.includes(u.id)) ?? [];
  return (
    <div class="picker">
      <label class="field">
        <span>{label}</span>
        <input
          ref={input}
          type="search"
          value={query}
          autoComplete="off"
          placeholder="Type a name"
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {users && shown.length === 0 && (
        <p class="hint">
          {users.length === 0 ? "Nobody found. Try another name." : "Everyone found is already added."}
        </p>
      )}
      <ul class="picker-list" aria-label="People found">
        {shown.map((user) => (
          <li key={user.id}>
            <span class="picker-name">{user.name}</span>
            <button type="button" aria-label={`${actionLabel} ${user.name}`} onClick={() => onPick(user)}>
              {actionLabel}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
