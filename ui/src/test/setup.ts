// Every test talks to a mocked Tauri: `invoke` answers from the handlers a
// test installs with `mockIpc`, and events never fire.
import { vi } from "vitest";

vi.mock("@tauri-apps/api/core", () => ({
  invoke: vi.fn(),
  isTauri: () => false,
}));

vi.mock("@tauri-apps/api/event", () => ({
  listen: vi.fn(async () => () => {}),
}));
