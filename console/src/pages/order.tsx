/** Orders: find one by its id, and read it whole, with its live process and a link to it in the Temporal UI. */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, problem } from '../api';
import { money, when } from '../format';
import { NotYet, usePolled } from '../poll';

interface OrderView {
  orderId: string;
  workflowId: string;
  channel: string;
  externalRef: string;
  status: string;
  currency: string;
  customer: { email: string; name: string };
  totals: { subtotal: number; shipping: number; tax: number; total: number };
  lines: {
    lineNo: number;
    sku: string;
    name: string;
    quantity: number;
    quantityShipped: number;
    quantityCancelled: number;
  }[];
  shipments: { shipmentId: string; warehouse: string; status: string; carrier?: string; trackingNumber?: string }[];
  payments: { kind: string; status: string; amount: number }[];
  process: { stage: string; live: boolean; timeline: { at: string; step: string }[] | null };
}

export function FindOrder() {
  const { route } = useLocation();
  const [id, setId] = useState('');
  return (
    <main>
      <h1>Orders</h1>
      <form onSubmit={(e) => (e.preventDefault(), route(`/console/orders/${encodeURIComponent(id.trim())}`))}>
        <label for="orderId">Order id</label>
        <input id="orderId" value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} required />
        <button type="submit">Open</button>
      </form>
    </main>
  );
}

export function Order({ id }: { id: string }) {
  const o = usePolled(async () => {
    const { data, error } = await api.GET('/v1/orders/{orderId}', { params: { path: { orderId: id } } });
    if (error) throw new Error(problem(error));
    return data as unknown as OrderView;
  }, [id]);
  if (!o.data) return <NotYet title="Order" error={o.error} />;
  const v = o.data;
  const temporalUi = `${location.protocol}//${location.hostname}:8233/namespaces/default/workflows/${encodeURIComponent(v.workflowId)}`;
  return (
    <main>
      <h1>
        Order {v.externalRef} <span class="badge">{v.status}</span>
      </h1>
      <p>
        {v.channel} · {v.customer.name} &lt;{v.customer.email}&gt; · {money(v.totals.total, v.currency)} ·{' '}
        <a href={temporalUi}>its process in the Temporal UI</a>
      </p>
      <h2>Lines</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">Ordered</th>
            <th scope="col">Shipped</th>
            <th scope="col">Cancelled</th>
          </tr>
        </thead>
        <tbody>
          {v.lines.map((l) => (
            <tr key={l.lineNo}>
              <td>{l.sku}</td>
              <td>{l.quantity}</td>
              <td>{l.quantityShipped}</td>
              <td>{l.quantityCancelled}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Shipments</h2>
      <ul>
        {v.shipments.map((s) => (
          <li key={s.shipmentId}>
            {s.warehouse}: {s.status} {s.trackingNumber ? `(${s.carrier} ${s.trackingNumber})` : ''}
          </li>
        ))}
      </ul>
      <h2>Payments</h2>
      <ul>
        {v.payments.map((p, i) => (
          <li key={i}>
            {p.kind} {p.status}: {money(p.amount, v.currency)}
          </li>
        ))}
      </ul>
      <h2>Timeline {v.process.live ? '' : '(live view unavailable)'}</h2>
      <ol>
        {(v.process.timeline ?? []).map((t, i) => (
          <li key={i}>
            <time>{when(t.at)}</time> {t.step}
          </li>
        ))}
      </ol>
    </main>
  );
}

interface ReturnView {
  returnId: string;
  orderId: string;
  status: string;
  reason?: string;
  lines: { sku: string; quantity: number; quantityReceived?: number; grade?: string }[];
  refunds?: { amount: number; status: string }[];
}

export function Return({ id }: { id: string }) {
  const r = usePolled(async () => {
    const { data, error } = await api.GET('/v1/returns/{returnId}', { params: { path: { returnId: id } } });
    if (error) throw new Error(problem(error));
    return data as unknown as ReturnView;
  }, [id]);
  if (!r.data) return <NotYet title="Return" error={r.error} />;
  const v = r.data;
  return (
    <main>
      <h1>
        Return{' '}
        <span class="badge" data-testid="return-status">
          {v.status}
        </span>
      </h1>
      <p>
        Of order <a href={`/console/orders/${v.orderId}`}>{v.orderId}</a>
        {v.reason ? ` · ${v.reason}` : ''}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">Returned</th>
            <th scope="col">Received</th>
            <th scope="col">Grade</th>
          </tr>
        </thead>
        <tbody>
          {v.lines.map((l, i) => (
            <tr key={i}>
              <td>{l.sku}</td>
              <td>{l.quantity}</td>
              <td>{l.quantityReceived ?? '–'}</td>
              <td>{l.grade ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
