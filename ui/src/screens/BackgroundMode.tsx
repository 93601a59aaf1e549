// Settings → Notifications → This device: keep Keyhold running in the tray when its
// window is closed (lib/background.ts), so new approval requests still notify.
import { useEffect, useState } from "preact/hooks";
import type { BackgroundView } from "../bindings";
import { Icon } from "../components/Icon";
import { ErrorNotice } from "../components/Notice";
import { applyBackground, backgroundDefault, loadBackground } from "../lib/background";
import { toCommandError, type CommandError } from "../lib/errors";

export function BackgroundMode(props: { role: string | null }) {
  const [view, setView] = useState<BackgroundView | null>(null);
  const [error, setError] = useState<CommandError | null>(null);
  useEffect(() => {
    applyBackground(loadBackground(props.role), false)
      .then(setView)
      .catch((e) => setError(toCommandError(e)));
  }, [props.role]);

  async function change(on: boolean) {
    setError(null);
    try {
      setView(await applyBackground(on, true));
    } catch (e) {
      setError(toCommandError(e));
    }
  }

  return (
    <section class="card" data-testid="background-panel" aria-labelledby="background-title">
      <h2 class="card-title" id="background-title">
        <Icon name="bell" />
        This device
      </h2>
      <label class="checkbox">
        <input
          type="checkbox"
          data-testid="background-mode"
          checked={view?.enabled ?? loadBackground(props.role)}
          disabled={!view}
          aria-describedby="background-hint"
          onChange={(e) => void change(e.currentTarget.checked)}
        />
        <span>Keep Keyhold running in the system tray when its window is closed</span>
      </label>
      <p class="hint" id="background-hint" data-testid="background-hint">
        {view && !view.tray_available
          ? "No system tray was found on this desktop: closing the window quits Keyhold, and notifications stop with it."
          : `New approval requests still raise a notification; click it to open the request. Quit from the tray icon's menu. ${
              backgroundDefault(props.role) ? "On by default for people who approve requests." : "Off by default for your role."
            }`}
      </p>
      <ErrorNotice error={error} testid="background-error" />
    </section>
  );
}
