/**
 * The web app's entry: decides how to sign in (a remembered sign-in, a `#token=` link, the host
 * page's token when embedded, or the password form), then runs the chat with one SDK client.
 * A link for someone other than the signed-in person is only taken after asking.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ChatClient } from "../src/sdk/index.js";
import {
  embedded,
  ForeignHostError,
  forgetSession,
  type Session,
  sameUser,
  savedSession,
  tokenFromHost,
  tokenFromLink,
} from "./auth.js";
import { App } from "./components/App.js";
import { SignIn } from "./components/SignIn.js";
import { SwitchAccount } from "./components/SwitchAccount.js";
import { ClientContext } from "./hooks.js";

/** What the page starts with: the session to use, and a link waiting for the person's answer. */
function start(): { session: Session | null; link: Session | null } {
  const link = tokenFromLink();
  const saved = embedded ? null : savedSession();
  if (link && saved && !sameUser(link, saved)) return { session: saved, link };
  return { session: link ?? saved, link: null };
}

const FOREIGN_HOST =
  "This page may not sign you in to TimeWise Chat. If it is one of yours, add its address to CORS_ORIGINS on the chat server.";

function Root() {
  const [initial] = useState(start);
  const [session, setSession] = useState<Session | null>(initial.session);
  const [link, setLink] = useState<Session | null>(initial.link);
  const [notice, setNotice] = useState<string | null>(null);
  const [waitingForHost, setWaitingForHost] = useState(embedded && session === null);

  useEffect(() => {
    if (!waitingForHost) return;
    tokenFromHost("connect").then(
      (token) => setSession({ token, user: null, source: "embed" }),
      (error: unknown) => {
        if (error instanceof ForeignHostError) setNotice(FOREIGN_HOST);
        setWaitingForHost(false); // no token from the page: offer the password form
      },
    );
  }, [waitingForHost]);

  // a link opened while the page is already open (only the #fragment changed)
  useEffect(() => {
    const onHash = () => {
      const opened = tokenFromLink();
      if (!opened) return;
      if (session && !sameUser(opened, session)) setLink(opened);
      else setSession(opened);
    };
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, [session]);

  if (session && link) {
    return (
      <SwitchAccount
        current={session}
        onKeep={() => setLink(null)}
        onSwitch={() => {
          forgetSession();
          setSession(link);
          setLink(null);
        }}
      />
    );
  }
  if (session) {
    return (
      <Chat
        key={session.token}
        session={session}
        onSignedOut={(why) => {
          forgetSession();
          setNotice(why);
          setWaitingForHost(false);
          setSession(null);
        }}
      />
    );
  }
  if (waitingForHost) return <p class="loading">Connecting…</p>;
  return <SignIn notice={notice} onSignedIn={setSession} />;
}

function Chat({ session, onSignedOut }: { session: Session; onSignedOut: (why: string | null) => void }) {
  const [client] = useState(() => {
    let token = session.token;
    return new ChatClient({
      url: location.origin,
      // the host page can hand over a fresh token when the server refuses an expired one
      getToken:
        session.source === "embed"
          ? async (reason) => {
              if (reason === "refresh") token = await tokenFromHost("refresh");
              return token;
            }
          : () => token,
    });
  });

  useEffect(() => {
    const offAuth = client.on("auth-error", (error) =>
      onSignedOut(
        error.code === "USER_DISABLED"
          ? "This account is disabled. Ask your TimeWise administrator for help."
          : "Your sign-in has expired. Please sign in again.",
      ),
    );
    // The browser knows before the heartbeat does: show offline at once, reconnect when back.
    const offline = () => client.dropConnection();
    const online = () => client.reconnectNow();
    addEventListener("offline", offline);
    addEventListener("online", online);
    return () => {
      offAuth();
      removeEventListener("offline", offline);
      removeEventListener("online", online);
      client.close();
    };
  }, [client]);

  return (
    <ClientContext.Provider value={client}>
      <App onSignOut={session.source === "password" ? () => onSignedOut(null) : null} />
    </ClientContext.Provider>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<Root />, root);
}
