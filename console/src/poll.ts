/** Keeps a list fresh without a reload: loads now, then every few seconds while the page is shown. */
import { useEffect, useState } from 'preact/hooks';
import { h } from 'preact';

export function usePolled<T>(load: () => Promise<T>, deps: unknown[], everyMs = 5000) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(deps);
  const [shownFor, setShownFor] = useState(key);
  if (shownFor !== key) {
    setShownFor(key); // other filters: the old rows are not shown as if they were the answer
    setData(undefined);
  }
  useEffect(() => {
    let live = true;
    const run = () =>
      load().then(
        (d) => live && (setData(d), setError(undefined)),
        (e: Error) => live && setError(e.message),
      );
    void run();
    const timer = setInterval(run, everyMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/** The page while its data is not there: loading, or the API's reason it is not. */
export function NotYet({ title, error }: { title: string; error?: string }) {
  return h(
    'main',
    null,
    h('h1', null, title),
    error ? h('p', { role: 'alert', class: 'error' }, error) : h('p', null, 'Loading…'),
  );
}
