// Installs command handlers behind the mocked `invoke`.
import { invoke } from "@tauri-apps/api/core";
import { vi, type Mock } from "vitest";

export type Handler = (args: Record<string, unknown>) => unknown;

export const invokeMock = invoke as unknown as Mock<
  (cmd: string, args?: Record<string, unknown>) => Promise<unknown>
>;

/**
 * Answers each command from `handlers` (a handler that throws rejects like
 * Rust does); an unmocked command rejects with `not_found`.
 */
export function mockIpc(handlers: Record<string, Handler>) {
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd: string, args: Record<string, unknown> = {}) => {
    const h = handlers[cmd];
    if (!h) throw { kind: "not_found", message: `no mock for ${cmd}` };
    return h(args);
  });
  return invokeMock;
}

/** The arguments of every call to `cmd`. */
export function callsOf(cmd: string): Record<string, unknown>[] {
  return invokeMock.mock.calls
    .filter(([c]) => c === cmd)
    .map(([, a]) => (a ?? {}) as Record<string, unknown>);
}

export const tick = () => new Promise((r) => setTimeout(r, 0));

export { vi };
