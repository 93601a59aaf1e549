import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { call } from "../api";
import { toCommandError, type CommandError } from "../lib/errors";
import { CopyButton } from "./CopyButton";
import { Dialog } from "./Dialog";
import { Icon } from "./Icon";
import { ErrorNotice, Notice } from "./Notice";

/** Save text to the Downloads folder through a command (the web view has no file access). */
export function DownloadButton(props: { fileName: string; text: string; testid?: string; label?: string }) {
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<CommandError | null>(null);
  return (
    <>
      <button
        type="button"
        class="button button-secondary"
        data-testid={props.testid}
        onClick={async () => {
          setError(null);
          try {
            const f = await call((c) => c.saveTextFile(props.fileName, props.text));
            setSaved(f.path);
          } catch (e) {
            setError(toCommandError(e));
          }
        }}
      >
        <Icon name="download" />
        <span>{props.label ?? "Download .txt"}</span>
      </button>
      {saved ? (
        <p class="saved-path" role="status" data-testid={props.testid ? `${props.testid}-saved` : undefined}>
          Saved to <code>{saved}</code>
        </p>
      ) : null}
      <ErrorNotice error={error} />
    </>
  );
}

/** A value shown exactly once: the warning, the value, copy and (unless `fileName` is absent) download. */
export function ShowOnce(props: { label: string; value: string; fileName?: string; fileText?: string; testid: string; why?: string }) {
  return (
    <div class="show-once">
      <Notice tone="warning" title="Copy it now — it will not be shown again">
        {props.why ?? "Keyhold stores only a hash of this value. If you lose it, revoke it and create a new one."}
      </Notice>
      <label class="field-label" for={`${props.testid}-value`}>
        {props.label}
      </label>
      <output id={`${props.testid}-value`} class="secret-value" data-testid={props.testid}>
        {props.value}
      </output>
      <div class="button-row">
        <CopyButton text={props.value} testid={`${props.testid}-copy`} />
        {props.fileName ? <DownloadButton fileName={props.fileName} text={props.fileText ?? `${props.value}\n`} testid={`${props.testid}-download`} /> : null}
      </div>
    </div>
  );
}

/** "Close without saving?" inside a dialog: the app's own question (never window.confirm). */
export function LeaveUnsaved(props: { title: string; children: ComponentChildren; onBack: () => void; onLeave: () => void }) {
  return (
    <div data-testid="show-once-leave">
      <Notice tone="warning" title={props.title}>
        {props.children}
      </Notice>
      <div class="dialog-actions">
        <button type="button" class="button button-primary" data-testid="show-once-back" onClick={props.onBack}>
          Go back
        </button>
        <button type="button" class="button button-danger" data-testid="show-once-leave-anyway" onClick={props.onLeave}>
          Close anyway
        </button>
      </div>
    </div>
  );
}

/**
 * A dialog around a value shown once: "I stored it" before Done, and closing without it
 * asks again in the app's own confirmation (never window.confirm).
 */
export function ShowOnceDialog(props: {
  title: string;
  label: string;
  value: string;
  /** What the person confirms: "I copied the key and stored it safely". */
  stored: string;
  why?: string;
  fileName?: string;
  fileText?: string;
  children?: ComponentChildren;
  onClose: () => void;
}) {
  const [confirmed, setConfirmed] = useState(false);
  const [asking, setAsking] = useState(false);
  function requestClose() {
    if (confirmed) props.onClose();
    else setAsking(true);
  }
  return (
    <Dialog title={props.title} onRequestClose={requestClose} testid="show-once-dialog" wide>
      {asking ? (
        <LeaveUnsaved title="Close without copying it?" onBack={() => setAsking(false)} onLeave={props.onClose}>
          {props.label} will never be shown again. If you have not stored it, go back and copy it now.
        </LeaveUnsaved>
      ) : (
        <>
          {props.children}
          <ShowOnce label={props.label} value={props.value} why={props.why} fileName={props.fileName} fileText={props.fileText} testid="show-once-secret" />
          <label class="checkbox">
            <input type="checkbox" data-testid="show-once-confirm" checked={confirmed} onChange={(e) => setConfirmed(e.currentTarget.checked)} />
            <span>{props.stored}</span>
          </label>
          <div class="dialog-actions">
            <button type="button" class="button button-primary" data-testid="show-once-close" disabled={!confirmed} onClick={props.onClose}>
              Done
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
