import { useState } from "preact/hooks";
import { call } from "../api";
import { toCommandError, type CommandError } from "../lib/errors";
import { CopyButton } from "./CopyButton";
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

/** A value shown exactly once: the warning, the value, copy and download. */
export function ShowOnce(props: { label: string; value: string; fileName: string; fileText: string; testid: string }) {
  return (
    <div class="show-once">
      <Notice tone="warning" title="Copy it now — it will not be shown again">
        Keyhold stores only a hash of this value. If you lose it, revoke it and create a new one.
      </Notice>
      <label class="field-label" for={`${props.testid}-value`}>
        {props.label}
      </label>
      <output id={`${props.testid}-value`} class="secret-value" data-testid={props.testid}>
        {props.value}
      </output>
      <div class="button-row">
        <CopyButton text={props.value} testid={`${props.testid}-copy`} />
        <DownloadButton fileName={props.fileName} text={props.fileText} testid={`${props.testid}-download`} />
      </div>
    </div>
  );
}
