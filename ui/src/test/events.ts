// The mocked Tauri event bus behind `listen`: a test delivers an event to
// whoever listens with `emit`, and asks with `listeners` who still does.
import type { Event, EventCallback, UnlistenFn } from "@tauri-apps/api/event";

const handlers = new Map<string, Set<EventCallback<unknown>>>();
let nextId = 0;

export async function listen<T>(event: string, handler: EventCallback<T>): Promise<UnlistenFn> {
  const set = handlers.get(event) ?? new Set();
  handlers.set(event, set);
  const h = handler as EventCallback<unknown>;
  set.add(h);
  return () => void set.delete(h);
}

/** Delivers `payload` as `event` to every listener, as Rust's `emit` does. */
export function emit<T>(event: string, payload: T) {
  for (const h of [...(handlers.get(event) ?? [])]) {
    h({ event, id: nextId++, payload } as Event<unknown>);
  }
}

/** How many listeners `event` has. */
export function listeners(event: string): number {
  return handlers.get(event)?.size ?? 0;
}

/** Forgets every listener (between tests). */
export function resetEvents() {
  handlers.clear();
}
