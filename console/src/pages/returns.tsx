/** Returns: the list by status, and one return with what the warehouse does to it (receive, inspect). */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, problem, useIntent } from '../api';
import { StatusFilter } from '../status-filter';
import { UnitsReceived } from '../units-received';
import { money, when } from '../format';
import { NotYet, usePolled } from '../poll';
import { may, useSession } from '../session';

const STATUSES = ['authorised', 'received', 'awaiting_decision', 'refunded', 'rejected', 'expired'];
type Condition = 'new' | 'opened' | 'damaged' | 'defective';
const CONDITIONS: Condition[] = ['new', 'opened', 'damaged', 'defective'];

export interface ReturnView {
  returnId: string;
  rmaNumber?: string;
  orderId: string;
  status: string;
  resolution: string;
  requestedAt: string;
  lines: { sku: string; quantity: number; reason: string; quantityReceived: number; quantityInspected: number }[];
  inspections: { sku: string; quantity: number; condition: string; disposition: string }[];
  refunds: { amount: number; status: string }[];
}

export function Returns() {
  const { query } = useLocation();
  const status = query.status ?? 'authorised';
  const list = usePolled(async () => {
    const { data, error } = await api.GET('/v1/returns', { params: { query: { status, limit: 100 } } });
    if (error) throw new Error(problem(error));
    return (
      data as unknown as {
        returns: { returnId: string; rmaNumber?: string; orderId: string; resolution: string; requestedAt: string }[];
      }
    ).returns;
  }, [status]);
  return (
    <main>
      <h1>Returns</h1>
      <StatusFilter page="returns" value={status} options={STATUSES} />
      {list.error && (
        <p role="alert" class="error">
          {list.error}
        </p>
      )}
      {list.data?.length === 0 && <p>No {status} returns.</p>}
      <ul>
        {list.data?.map((r) => (
          <li key={r.returnId}>
            <a href={`/console/returns/${r.returnId}`}>{r.rmaNumber ?? r.returnId.slice(0, 8)}</a> · {r.resolution} ·
            requested {when(r.requestedAt)}
          </li>
        ))}
      </ul>
    </main>
  );
}

export function Return({ id }: { id: string }) {
  const { session } = useSession();
  const [said, setSaid] = useState('');
  const r = usePolled(async () => {
    const { data, error } = await api.GET('/v1/returns/{returnId}', { params: { path: { returnId: id } } });
    if (error) throw new Error(problem(error));
    return data as unknown as ReturnView;
  }, [id]);
  if (!r.data) return <NotYet title="Return" error={r.error} />;
  const v = r.data;
  const warehouse = may(session, 'warehouse');
  const toReceive = v.status === 'authorised' && v.lines.some((l) => l.quantityReceived < l.quantity);
  const toInspect = v.lines.some((l) => l.quantityInspected < l.quantityReceived);
  const done = (m: string) => (setSaid(m), r.reload());
  return (
    <main>
      <h1>
        Return {v.rmaNumber ?? ''}{' '}
        <span class="badge" data-testid="return-status">
          {v.status}
        </span>
      </h1>
      <p>
        Of order <a href={`/console/orders/${v.orderId}`}>{v.orderId}</a> · {v.resolution} · requested{' '}
        {when(v.requestedAt)}
      </p>
      <p class="status" aria-live="polite">
        {said}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">Returned</th>
            <th scope="col">Received</th>
            <th scope="col">Inspected</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {v.lines.map((l) => (
            <tr key={l.sku}>
              <td>{l.sku}</td>
              <td>{l.quantity}</td>
              <td>{l.quantityReceived}</td>
              <td>{l.quantityInspected}</td>
              <td>{l.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {v.inspections.length > 0 && (
        <>
          <h2>Inspections</h2>
          <ul>
            {v.inspections.map((i, n) => (
              <li key={n}>
                {i.quantity} × {i.sku}: {i.condition} → {i.disposition}
              </li>
            ))}
          </ul>
        </>
      )}
      {v.refunds.length > 0 && (
        <>
          <h2>Refunds</h2>
          <ul>
            {v.refunds.map((f, n) => (
              <li key={n}>
                {money(f.amount)} {f.status}
              </li>
            ))}
          </ul>
        </>
      )}
      {warehouse && toReceive && <Receive v={v} onDone={done} />}
      {warehouse && toInspect && <Inspect v={v} onDone={done} />}
    </main>
  );
}

function Receive({ v, onDone }: { v: ReturnView; onDone: (m: string) => void }) {
  return (
    <UnitsReceived
      title="Receive"
      lines={v.lines.map((l) => ({ sku: l.sku, label: `Units of ${l.sku} in the parcel` }))}
      initial={Object.fromEntries(v.lines.map((l) => [l.sku, String(l.quantity - l.quantityReceived)]))}
      send={(lines, headers) =>
        api.POST('/v1/returns/{returnId}/receipt', {
          params: { path: { returnId: v.returnId } },
          headers,
          body: { lines },
        })
      }
      done={() => onDone('Receipt recorded')}
    />
  );
}

function Inspect({ v, onDone }: { v: ReturnView; onDone: (m: string) => void }) {
  const open = v.lines.filter((l) => l.quantityInspected < l.quantityReceived);
  const [cond, setCond] = useState<Record<string, Condition>>(Object.fromEntries(open.map((l) => [l.sku, 'new'])));
  const [error, setError] = useState<string>();
  const intent = useIntent();
  const submit = async (e: Event) => {
    e.preventDefault();
    const lines = open.map((l) => ({
      sku: l.sku,
      quantity: l.quantityReceived - l.quantityInspected,
      condition: cond[l.sku],
    }));
    const r = await api.POST('/v1/returns/{returnId}/inspection', {
      params: { path: { returnId: v.returnId } },
      headers: intent.headers,
      body: { lines },
    });
    if (r.error) return setError(problem(r.error));
    intent.renew();
    onDone('Inspection recorded');
  };
  return (
    <form onSubmit={submit} aria-labelledby="inspect-title">
      <h2 id="inspect-title">Inspect</h2>
      {open.map((l) => (
        <div key={l.sku}>
          <label for={`cond-${l.sku}`}>
            Condition of {l.quantityReceived - l.quantityInspected} × {l.sku}
          </label>
          <select
            id={`cond-${l.sku}`}
            value={cond[l.sku]}
            onChange={(e) => setCond({ ...cond, [l.sku]: (e.target as HTMLSelectElement).value as Condition })}
          >
            {CONDITIONS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
      ))}
      <button type="submit">Record inspection</button>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </form>
  );
}
