// Light/dark theme: a UI preference kept in the webview's local storage.
// Without a stored choice the system's `prefers-color-scheme` decides (the
// CSS does that on its own when no `data-theme` is set).

export type Theme = "light" | "dark";

export const THEME_KEY = "tablero.theme";

export function storedTheme(storage: Pick<Storage, "getItem"> = localStorage): Theme | null {
  try {
    const v = storage.getItem(THEME_KEY);
    return v === "light" || v === "dark" ? v : null;
  } catch {
    return null;
  }
}

export function systemTheme(): Theme {
  try {
    return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  } catch {
    return "light";
  }
}

/** The theme in effect: the stored choice, else the system's. */
export function currentTheme(storage: Pick<Storage, "getItem"> = localStorage): Theme {
  return storedTheme(storage) ?? systemTheme();
}

/** Sets the document's theme; `null` follows the system. */
export function applyTheme(theme: Theme | null, root: HTMLElement = document.documentElement) {
  if (theme) root.dataset.theme = theme;
  else delete root.dataset.theme;
}

/** Chooses a theme, remembers it, and applies it; `null` goes back to the system's. */
export function setTheme(
  theme: Theme | null,
  storage: Pick<Storage, "setItem" | "removeItem"> = localStorage,
  root: HTMLElement = document.documentElement,
) {
  try {
    if (theme) storage.setItem(THEME_KEY, theme);
    else storage.removeItem(THEME_KEY);
  } catch {
    // Storage unavailable: the choice lasts for this session only.
  }
  applyTheme(theme, root);
}

/** Switches light ↔ dark from the theme in effect, and remembers it. */
export function toggleTheme(
  storage: Storage = localStorage,
  root: HTMLElement = document.documentElement,
): Theme {
  const next: Theme = currentTheme(storage) === "dark" ? "light" : "dark";
  setTheme(next, storage, root);
  return next;
}

/** Applies the stored theme at start-up. */
export function initTheme(storage: Pick<Storage, "getItem"> = localStorage) {
  applyTheme(storedTheme(storage));
}
