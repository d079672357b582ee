/**
 * Cursor paging for a list page whose filters live in the URL: "Older" follows the API's `next`, "Newer" goes
 * back to the cursors already visited (the API pages newest first and has no "previous").
 */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';

/** The URL's filters for this list (`keys`, plus `cursor`), and a way to go to other ones. */
export function useListUrl(page: string, keys: string[]) {
  const { query, route } = useLocation();
  const filter: Record<string, string> = Object.fromEntries(
    Object.entries(query).filter(([k, v]) => [...keys, 'cursor'].includes(k) && v),
  );
  const go = (q: Record<string, string>) =>
    route(`/console/${page}?${new URLSearchParams(Object.entries(q).filter(([, v]) => v))}`);
  return { filter, go };
}

type PagerProps = {
  filter: Record<string, string>;
  go: (q: Record<string, string>) => void;
  next: string | null | undefined;
};

/** Other filters start over from the newest page: the visited cursors belong to the old ones. */
export function Pager(props: PagerProps) {
  const { cursor: _cursor, ...filters } = props.filter;
  return <Buttons key={JSON.stringify(filters)} {...props} />;
}

function Buttons({ filter, go, next }: PagerProps) {
  const [before, setBefore] = useState<string[]>([]); // cursors of the pages before this one
  return (
    <div class="actions">
      {before.length > 0 && (
        <button
          class="secondary"
          onClick={() => (go({ ...filter, cursor: before[before.length - 1] }), setBefore(before.slice(0, -1)))}
        >
          Newer
        </button>
      )}
      {next && (
        <button
          class="secondary"
          onClick={() => (setBefore([...before, filter.cursor ?? '']), go({ ...filter, cursor: next }))}
        >
          Older
        </button>
      )}
    </div>
  );
}
