import { useEffect, useRef, useState } from "preact/hooks";
import type { SessionView } from "../bindings";
import { initials } from "../lib/format";
import type { ThemeChoice } from "../lib/theme";
import { Icon, type IconName } from "./Icon";

/** The avatar (initials) and its menu: Security Vault, Sessions and lock, theme, Sign out. */
export function AccountMenu(props: {
  session: SessionView;
  theme: ThemeChoice;
  onTheme: (t: ThemeChoice) => void;
  onSecurityVault: () => void;
  /** Settings → Sessions and lock. */
  onSessions: () => void;
  onSignOut: () => void;
}) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const user = props.session.user;

  useEffect(() => {
    if (!open) return;
    const first = menu.current?.querySelector<HTMLElement>("[role^=menuitem]");
    first?.focus();
    const onDoc = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", onDoc);
    return () => document.removeEventListener("mousedown", onDoc);
  }, [open]);

  function close(focusButton = true) {
    setOpen(false);
    if (focusButton) button.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent) {
    const items = Array.from(menu.current?.querySelectorAll<HTMLElement>("[role^=menuitem]") ?? []);
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      items[(i + 1) % items.length]?.focus();
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      items[(i - 1 + items.length) % items.length]?.focus();
    } else if (e.key === "Home") {
      e.preventDefault();
      items[0]?.focus();
    } else if (e.key === "End") {
      e.preventDefault();
      items[items.length - 1]?.focus();
    } else if (e.key === "Tab") {
      close(false);
    }
  }

  const themes: [ThemeChoice, string, IconName][] = [
    ["system", "System", "monitor"],
    ["light", "Light", "sun"],
    ["dark", "Dark", "moon"],
  ];

  return (
    <div class="account">
      <button
        ref={button}
        type="button"
        class="avatar-button"
        data-testid="avatar-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls="account-menu"
        onClick={() => setOpen(!open)}
      >
        <span class="avatar" aria-hidden="true">
          {initials(user.display_name, user.email)}
        </span>
        {/* The name as text, not aria-label: a label that leaves out the visible initials
            fails WCAG 2.5.3 (label in name), which axe-core checks. */}
        <span class="sr-only">Account menu for {user.display_name || user.email}</span>
        <Icon name="chevronDown" size={16} />
      </button>
      {open ? (
        <div ref={menu} id="account-menu" class="menu" role="menu" data-testid="account-menu" aria-label="Account" onKeyDown={onKeyDown}>
          <div class="menu-header" role="presentation">
            <span class="avatar avatar-lg" aria-hidden="true">
              {initials(user.display_name, user.email)}
            </span>
            <div>
              <div class="menu-name">{user.display_name || user.email}</div>
              {user.display_name ? <div class="menu-email muted">{user.email}</div> : null}
              <div class="menu-email muted">{props.session.server_url}</div>
            </div>
          </div>
          <div class="menu-sep" role="separator" />
          <button
            type="button"
            role="menuitem"
            class="menu-item"
            data-testid="menu-security-vault"
            onClick={() => {
              close();
              props.onSecurityVault();
            }}
          >
            <Icon name="shieldCheck" />
            Security Vault
          </button>
          <button
            type="button"
            role="menuitem"
            class="menu-item"
            data-testid="menu-sessions"
            onClick={() => {
              close();
              props.onSessions();
            }}
          >
            <Icon name="monitor" />
            Sessions and lock
          </button>
          <div class="menu-sep" role="separator" />
          <div class="menu-group-label" id="theme-label" role="presentation">
            Appearance
          </div>
          <div role="group" aria-labelledby="theme-label" class="menu-themes">
            {themes.map(([value, label, icon]) => (
              <button
                key={value}
                type="button"
                role="menuitemradio"
                aria-checked={props.theme === value}
                class={`menu-theme ${props.theme === value ? "active" : ""}`}
                data-testid={`theme-${value}`}
                onClick={() => props.onTheme(value)}
              >
                <Icon name={icon} size={16} />
                {label}
              </button>
            ))}
          </div>
          <div class="menu-sep" role="separator" />
          <button
            type="button"
            role="menuitem"
            class="menu-item menu-item-danger"
            data-testid="menu-sign-out"
            onClick={() => {
              close(false);
              props.onSignOut();
            }}
          >
            <Icon name="logOut" />
            Sign out
          </button>
        </div>
      ) : null}
    </div>
  );
}
