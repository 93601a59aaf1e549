import { useCallback, useEffect, useState } from "preact/hooks";
import { call, commands } from "../api";
import { toCommandError, type CommandError } from "./errors";

export interface Loaded<T> {
  data: T | null;
  error: CommandError | null;
  loading: boolean;
  reload: () => void;
}

/** Run a command when the component mounts (and on reload); keep data, error and loading. */
export function useCommand<T>(run: (c: typeof commands) => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<CommandError | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const runner = useCallback(run, deps);
  useEffect(() => {
    let live = true;
    setLoading(true);
    call(runner)
      .then((d) => {
        if (!live) return;
        setData(d);
        setError(null);
      })
      .catch((e) => {
        if (!live) return;
        setError(toCommandError(e));
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [runner, tick]);
  return { data, error, loading, reload: () => setTick((t) => t + 1) };
}
