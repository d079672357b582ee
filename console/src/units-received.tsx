/**
 * Units that arrived, line by line: a supplier's delivery on a purchase order, a customer's parcel on a return.
 * Whole units only; one Idempotency-Key per intent, so a double click records the receipt once.
 */
import { useState } from 'preact/hooks';
import { problem, useIntent } from './api';

export type Counted = { sku: string; quantity: number };

export function UnitsReceived({
  title,
  lines,
  initial = {},
  send,
  done,
}: {
  title: string;
  lines: { sku: string; label: string }[];
  initial?: Record<string, string>;
  send: (lines: Counted[], headers: Record<string, string>) => Promise<{ error?: unknown }>;
  done: (units: number) => void;
}) {
  const [counts, setCounts] = useState(initial);
  const [error, setError] = useState<string>();
  const intent = useIntent();
  const submit = async (e: Event) => {
    e.preventDefault();
    const counted = lines
      .map((l) => ({ sku: l.sku, quantity: Number(counts[l.sku] ?? 0) }))
      .filter((l) => l.quantity > 0);
    if (counted.some((l) => !Number.isInteger(l.quantity))) return setError('Count whole units');
    if (counted.length === 0) return setError('Enter the units that arrived');
    const r = await send(counted, intent.headers);
    if (r.error) return setError(problem(r.error));
    intent.renew();
    setCounts(initial);
    setError(undefined);
    done(counted.reduce((s, l) => s + l.quantity, 0));
  };
  return (
    <form onSubmit={submit} aria-labelledby="receive-title">
      <h2 id="receive-title">{title}</h2>
      {lines.map((l) => (
        <div key={l.sku}>
          <label for={`receive-${l.sku}`}>{l.label}</label>
          <input
            id={`receive-${l.sku}`}
            inputMode="numeric"
            value={counts[l.sku] ?? ''}
            onInput={(e) => setCounts({ ...counts, [l.sku]: (e.target as HTMLInputElement).value })}
          />
        </div>
      ))}
      <button type="submit">Record receipt</button>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </form>
  );
}
