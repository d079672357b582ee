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

/** Orders: search by reference, customer e-mail, status, channel and date, newest first, a page at a time. */
export function Orders() {
  const { query, route } = useLocation();
  const [form, setForm] = useState({
    ref: query.ref ?? '',
    email: query.email ?? '',
    status: query.status ?? '',
    channel: query.channel ?? '',
  });
  const [pages, setPages] = useState<string[]>([]); // cursors of the pages before this one
  const filter = Object.fromEntries(
    Object.entries(query).filter(([k, v]) => ['ref', 'email', 'status', 'channel', 'cursor'].includes(k) && v),
  );
  const list = usePolled(async () => {
    const { data, error } = await api.GET('/v1/orders', { params: { query: { ...filter, limit: 50 } } });
    if (!data) throw new Error(problem(error));
    return data;
  }, [JSON.stringify(filter)]);
  const go = (q: Record<string, string>) =>
    route(`/console/orders?${new URLSearchParams(Object.entries(q).filter(([, v]) => v))}`);
  const search = (e: Event) => {
    e.preventDefault();
    setPages([]);
    go(form);
  };
  const input = (k: keyof typeof form, label: string) => (
    <div>
      <label for={`f-${k}`}>{label}</label>
      <input
        id={`f-${k}`}
        value={form[k]}
        onInput={(e) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value })}
      />
    </div>
  );
  const csv = `/v1/orders?${new URLSearchParams({ ...filter, format: 'csv' })}`;
  return (
    <main>
      <h1>Orders</h1>
      <form class="filters" onSubmit={search}>
        {input('ref', 'Reference')}
        {input('email', 'Customer e-mail')}
        {input('status', 'Status')}
        {input('channel', 'Channel')}
        <button type="submit">Search</button>
      </form>
      <p>
        <a href={csv} download>
          Export these orders as CSV
        </a>
      </p>
      {list.error && (
        <p role="alert" class="error">
          {list.error}
        </p>
      )}
      {list.data?.orders.length === 0 && <p>No orders match.</p>}
      <table>
        <caption class="visually-hidden">Orders, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Reference</th>
            <th scope="col">Channel</th>
            <th scope="col">Status</th>
            <th scope="col">Customer</th>
            <th scope="col">Total</th>
            <th scope="col">Placed</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.orders.map((o) => (
            <tr key={o.orderId}>
              <td>
                <a href={`/console/orders/${o.orderId}`}>{o.externalRef}</a>
              </td>
              <td>{o.channel}</td>
              <td>{o.status}</td>
              <td>{o.customerEmail}</td>
              <td>{money(o.total, o.currency)}</td>
              <td>{when(o.placedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="actions">
        {pages.length > 0 && (
          <button
            class="secondary"
            onClick={() => (go({ ...filter, cursor: pages[pages.length - 1] }), setPages(pages.slice(0, -1)))}
          >
            Newer
          </button>
        )}
        {list.data?.next && (
          <button
            class="secondary"
            onClick={() => (setPages([...pages, filter.cursor ?? '']), go({ ...filter, cursor: list.data!.next! }))}
          >
            Older
          </button>
        )}
      </div>
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
