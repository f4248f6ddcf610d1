/**
 * Completing a mention in the composer: after `@` and a letter or more, the room's members whose
 * name or login matches are listed (never anyone outside the room), with @all and @here in a
 * group. Up/Down move, Enter or Tab picks, Escape closes; a click picks too. Picking puts
 * `@login ` in the text. The text box keeps the focus and points at the active option
 * (aria-activedescendant), as the WAI-ARIA combobox pattern asks.
 */
import { useEffect, useState } from "preact/hooks";
import { useClient } from "../hooks.js";
import { learnLogin, typedMention } from "../mentions.js";

export interface MentionOption {
  id: string;
  login: string;
  name: string;
}

/** How many people the list shows at most. */
const MAX_OPTIONS = 8;

export function useMentionPicker(roomId: string, text: string, caret: number) {
  const client = useClient();
  const typed = typedMention(text, caret);
  const query = typed && typed.query !== "" ? typed.query : null;
  const [options, setOptions] = useState<MentionOption[]>([]);
  const [active, setActive] = useState(0);
  const [closedAt, setClosedAt] = useState<number | null>(null);

  useEffect(() => {
    if (query === null) {
      setOptions([]);
      return;
    }
    let current = true;
    const room = client.state.room(roomId);
    const members = new Set(room?.members.map((m) => m.userId) ?? []);
    const everyone: MentionOption[] =
      room?.type === "group"
        ? ["all", "here"]
            .filter((w) => w.startsWith(query.toLowerCase()))
            .map((w) => ({ id: `@${w}`, login: w, name: "Everyone in this group" }))
        : [];
    client.request("user:search", { query, limit: 50 }).then(
      ({ users }) => {
        if (!current) return;
        const people: MentionOption[] = [];
        for (const u of users) {
          learnLogin(u.id, u.login);
          // only members of this room: a mention of anyone else would be plain text
          if (members.has(u.id) && u.login) people.push({ id: u.id, login: u.login, name: u.name });
        }
        setOptions([...people, ...everyone].slice(0, MAX_OPTIONS));
        setActive(0);
      },
      () => current && setOptions(everyone),
    );
    return () => {
      current = false;
    };
  }, [client, roomId, query]);

  const open = query !== null && options.length > 0 && closedAt !== typed?.start;
  const choose = (option: MentionOption): { text: string; caret: number } | null => {
    if (!typed) return null;
    const inserted = `@${option.login} `;
    setOptions([]);
    return {
      text: text.slice(0, typed.start) + inserted + text.slice(caret),
      caret: typed.start + inserted.length,
    };
  };
  /** Handles a key for the list; returns the new text when an option was picked, true when used. */
  const onKey = (key: string): { text: string; caret: number } | boolean => {
    if (!open) return false;
    if (key === "ArrowDown") setActive((active + 1) % options.length);
    else if (key === "ArrowUp") setActive((active - 1 + options.length) % options.length);
    else if (key === "Escape") setClosedAt(typed?.start ?? null);
    else if (key === "Enter" || key === "Tab") {
      const option = options[active];
      return (option && choose(option)) ?? true;
    } else return false;
    return true;
  };
  return { open, options, active, choose, onKey };
}

export function MentionList({
  options,
  active,
  onPick,
}: {
  options: MentionOption[];
  active: number;
  onPick: (option: MentionOption) => void;
}) {
  return (
    <div class="mention-list" id="mention-list" role="listbox" aria-label="People to mention">
      {options.map((o, i) => (
        <div
          key={o.id}
          id={`mention-option-${i}`}
          role="option"
          aria-selected={i === active}
          tabIndex={-1}
          class={i === active ? "active" : undefined}
          // mousedown, not click: the text box keeps the focus
          onMouseDown={(e) => {
            e.preventDefault();
            onPick(o);
          }}
        >
          <bdi class="mention-name">{o.name}</bdi> <span class="mention-login">@{o.login}</span>
        </div>
      ))}
    </div>
  );
}
