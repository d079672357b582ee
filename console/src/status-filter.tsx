/** A list's status filter: choosing one moves to its URL, so the filtered list is bookmarkable. */
import { useLocation } from 'preact-iso';

export function StatusFilter({ page, value, options }: { page: string; value: string; options: readonly string[] }) {
  const { route } = useLocation();
  return (
    <>
      <label for={`${page}-status`}>Status</label>
      <select
        id={`${page}-status`}
        value={value}
        onChange={(e) => route(`/console/${page}?status=${(e.target as HTMLSelectElement).value}`)}
      >
        {options.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
    </>
  );
}
