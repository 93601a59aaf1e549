// Light, dark or follow the system. Stored locally (not a secret).
export type ThemeChoice = "system" | "light" | "dark";

const KEY = "keyhold.theme";

export function loadTheme(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

export function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === "system") root.removeAttribute("data-theme");
  else root.setAttribute("data-theme", choice);
  try {
    localStorage.setItem(KEY, choice);
  } catch {
    // Storage may be unavailable; the choice then lasts for this run.
  }
}
