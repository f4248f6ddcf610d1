/**
 * TimeWise Chat for PHP pages, with one tag:
 *
 *   <script src="https://chat.example.com/embed.js" data-token="<?= $chatToken ?>"></script>
 *
 * It puts the chat in an iframe (its own origin, its own strict CSP, no style clashes with the
 * page) right after the tag, or inside `data-target`. The token goes to the iframe by postMessage
 * (never in a URL), and only to the chat server's origin. For short-lived tokens, give
 * `data-token-url` (a PHP URL answering `{"token": "…"}` for the signed-in user) or
 * `data-get-token` (the name of a global function returning a token or a promise of one).
 * The page receives a `timewise-chat:unread` event on `window` with the unread count.
 */
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script) return;
  const options = script.dataset;
  const origin = new URL(options.server ?? script.src, location.href).origin;
  let token = options.token ?? null;

  const iframe = document.createElement("iframe");
  iframe.src = `${origin}/?embed=1`;
  iframe.title = options.title ?? "TimeWise Chat";
  iframe.className = "timewise-chat";
  iframe.style.width = options.width ?? "100%";
  iframe.style.height = options.height ?? "600px";
  iframe.style.border = "0";
  iframe.style.display = "block";
  const target = options.target ? document.querySelector(options.target) : null;
  if (target) target.appendChild(iframe);
  else script.insertAdjacentElement("afterend", iframe);

  /** A new token from the page's own source, or the one from the tag. */
  async function freshToken(): Promise<string | null> {
    const name = options.getToken;
    const fn = name ? (window as unknown as Record<string, unknown>)[name] : undefined;
    if (typeof fn === "function") return String(await (fn as () => unknown)());
    if (options.tokenUrl) {
      const response = await fetch(options.tokenUrl, { credentials: "same-origin" });
      if (!response.ok) return null;
      const text = await response.text();
      try {
        const parsed = JSON.parse(text) as { token?: unknown };
        return typeof parsed.token === "string" ? parsed.token : null;
      } catch {
        return text.trim() || null;
      }
    }
    return token;
  }

  window.addEventListener("message", (event: MessageEvent<unknown>) => {
    if (event.source !== iframe.contentWindow || event.origin !== origin) return;
    const data = event.data as { type?: unknown; reason?: unknown; count?: unknown } | null;
    if (data?.type === "twc:token-request") {
      const wanted = data.reason === "refresh" || token === null ? freshToken() : Promise.resolve(token);
      wanted.then(
        (t) => {
          if (t === null) return;
          token = t;
          iframe.contentWindow?.postMessage({ type: "twc:token", token: t }, origin);
        },
        () => undefined, // the chat shows its sign-in form when no token comes
      );
    } else if (data?.type === "twc:unread" && typeof data.count === "number") {
      window.dispatchEvent(new CustomEvent("timewise-chat:unread", { detail: { count: data.count } }));
    }
  });
})();
