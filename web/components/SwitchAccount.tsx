/**
 * Asked when a `#token=` link is for someone other than the person signed in: a link can come from
 * anyone, and taking it silently would have the reader chat as its sender without noticing.
 */
import type { Session } from "../auth.js";

/** The question, with the choice to stay (the default button) or to switch to the link's account. */
export function SwitchAccount({
  current,
  onKeep,
  onSwitch,
}: {
  current: Session;
  onKeep: () => void;
  onSwitch: () => void;
}) {
  const name = current.user?.name ?? null;
  return (
    <main class="signin">
      <section
        class="signin-card stack"
        role="alertdialog"
        aria-labelledby="switch-title"
        aria-describedby="switch-text"
      >
        <h1 id="switch-title">Switch account?</h1>
        <p id="switch-text">
          {name ? (
            <>
              You are signed in as <bdi>{name}</bdi>.
            </>
          ) : (
            "You are already signed in."
          )}{" "}
          The link you opened signs in to TimeWise Chat with a different account. Only switch if you expected
          this link.
        </p>
        <button type="button" class="primary" onClick={onKeep}>
          {name ? "Stay signed in as " : "Stay signed in"}
          {name && <bdi>{name}</bdi>}
        </button>
        <button type="button" onClick={onSwitch}>
          Switch account
        </button>
      </section>
    </main>
  );
}
