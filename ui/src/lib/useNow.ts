import { useEffect, useState } from "preact/hooks";

/**
 * The current time, re-read every `everyMs` while the component is mounted, so that
 * countdowns ("24h 1m left") and relative times move without a reload. One timer per
 * component that shows time; nothing runs once it unmounts.
 */
export function useNow(everyMs = 30_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
