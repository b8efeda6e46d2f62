import { beforeEach, describe, expect, it } from "vitest";

import { currentTheme, initTheme, setTheme, storedTheme, THEME_KEY, toggleTheme } from "./theme";

describe("theme", () => {
  beforeEach(() => {
    localStorage.clear();
    delete document.documentElement.dataset.theme;
  });

  it("follows the system when nothing is stored", () => {
    expect(storedTheme()).toBeNull();
    initTheme();
    expect(document.documentElement.dataset.theme).toBeUndefined();
    expect(currentTheme()).toBe("light"); // jsdom has no dark preference
  });

  it("persists the toggle and applies it", () => {
    expect(toggleTheme()).toBe("dark");
    expect(localStorage.getItem(THEME_KEY)).toBe("dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(toggleTheme()).toBe("light");
    expect(localStorage.getItem(THEME_KEY)).toBe("light");
  });

  it("restores the stored theme at start-up", () => {
    localStorage.setItem(THEME_KEY, "dark");
    initTheme();
    expect(document.documentElement.dataset.theme).toBe("dark");
  });

  it("goes back to the system's theme", () => {
    setTheme("dark");
    setTheme(null);
    expect(localStorage.getItem(THEME_KEY)).toBeNull();
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it("ignores a garbage stored value", () => {
    localStorage.setItem(THEME_KEY, "purple");
    expect(storedTheme()).toBeNull();
  });
});
