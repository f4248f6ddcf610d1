/**
 * A list of listeners for one thing a service announces (a message stored, a room changed). Each
 * part that cares (metrics, webhooks) adds its own listener, so none depends on another having
 * been wired first, and one that throws neither fails the service's request nor silences the rest.
 */
export class Listeners<A extends unknown[]> {
  readonly #list = new Set<(...args: A) => void>();

  /** @param onError where a listener's error goes (the logger); the request goes on regardless */
  constructor(private readonly onError: (error: unknown) => void = () => {}) {}

  /** Adds a listener; the function returned removes it again. */
  add(listener: (...args: A) => void): () => void {
    this.#list.add(listener);
    return () => {
      this.#list.delete(listener);
    };
  }

  /** Calls every listener, in the order they were added. */
  emit(...args: A): void {
    for (const listener of this.#list) {
      try {
        listener(...args);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
