// Whether the backend is reachable, as the last commands found it. A
// command refused with kind `offline` (AWS cannot be reached) marks the
// connection lost, the next command that succeeds marks it back; the header
// shows one badge meanwhile, and inline errors point at it instead of each
// repeating the same message.

export class Connection {
  /** Rust's message of the latest `offline` refusal; null while reachable. */
  offline = $state<string | null>(null);
  /** Every `offline` message since the connection was lost. */
  #messages = $state<string[]>([]);

  lost(message: string) {
    this.offline = message;
    if (!this.#messages.includes(message)) this.#messages = [...this.#messages, message];
  }

  reached() {
    if (this.offline === null) return;
    this.offline = null;
    this.#messages = [];
  }

  /** Whether `message` is one of the refusals the header's badge stands for. */
  covers(message: string | null | undefined): boolean {
    return this.offline !== null && message != null && this.#messages.includes(message);
  }
}

export const connection = new Connection();
