// Native dialogs (open a CSV, choose where to save a PNG) through
// `@tauri-apps/plugin-dialog`, guarded so the typed-path fallback is used
// when the plugin is not there (tests, a plain browser, WebDriver).

import { isTauri } from "@tauri-apps/api/core";

function inTauri(): boolean {
  try {
    return isTauri();
  } catch {
    return false;
  }
}

export function nativeDialogsAvailable(): boolean {
  return inTauri();
}

/** Asks for a CSV file; `null` when cancelled or unavailable. */
export async function pickCsv(): Promise<string | null> {
  if (!inTauri()) return null;
  try {
    const { open } = await import("@tauri-apps/plugin-dialog");
    const picked = await open({
      multiple: false,
      directory: false,
      filters: [{ name: "CSV", extensions: ["csv", "txt", "tsv"] }],
    });
    return typeof picked === "string" ? picked : null;
  } catch {
    return null;
  }
}

/** Asks for a folder; `null` when cancelled or unavailable. */
export async function pickFolder(): Promise<string | null> {
  if (!inTauri()) return null;
  try {
    const { open } = await import("@tauri-apps/plugin-dialog");
    const picked = await open({ multiple: false, directory: true });
    return typeof picked === "string" ? picked : null;
  } catch {
    return null;
  }
}

/** Asks where to save a PNG; `null` when cancelled or unavailable. */
export async function pickPngTarget(defaultPath: string): Promise<string | null> {
  if (!inTauri()) return null;
  try {
    const { save } = await import("@tauri-apps/plugin-dialog");
    const path = await save({ defaultPath, filters: [{ name: "PNG image", extensions: ["png"] }] });
    return path ?? null;
  } catch {
    return null;
  }
}

/** Listens for files dropped on the window; returns the unsubscribe function. */
export async function onFileDrop(handlers: {
  hover: (over: boolean) => void;
  drop: (paths: string[]) => void;
}): Promise<() => void> {
  if (!inTauri()) return () => {};
  try {
    const { getCurrentWebview } = await import("@tauri-apps/api/webview");
    return await getCurrentWebview().onDragDropEvent((event) => {
      const p = event.payload;
      if (p.type === "enter" || p.type === "over") handlers.hover(true);
      else if (p.type === "leave") handlers.hover(false);
      else if (p.type === "drop") {
        handlers.hover(false);
        handlers.drop(p.paths);
      }
    });
  } catch {
    return () => {};
  }
}
