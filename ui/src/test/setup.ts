// Every test talks to a mocked Tauri: `invoke` answers from the handlers a
// test installs with `mockIpc`, and events fire only when a test emits them
// (`emit` in ./events).
import { afterEach, vi } from "vitest";

import { resetEvents } from "./events";

vi.mock("@tauri-apps/api/core", () => ({
  invoke: vi.fn(),
  isTauri: () => false,
}));

vi.mock("@tauri-apps/api/event", async () => {
  const events = await import("./events");
  return { listen: vi.fn(events.listen) };
});

afterEach(() => resetEvents());
