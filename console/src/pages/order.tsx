/** Orders: find one by its id, and read it whole, with its live process and a link to it in the Temporal UI. */
import { useState } from 'preact/hooks';
import { addressBody, AddressFields, type Address } from '../address';
import { api, problem } from '../api';
import { fieldsOf } from '../field';
import { may, useSession } from '../session';
import { money, when } from '../format';
import { NotYet, usePolled } from '../poll';
import { Pager, useListUrl } from '../pager';

interface OrderView {
  orderId: string;
  workflowId: string;
  channel: string;
  externalRef: string;
  status: string;
  currency: string;
  customer: { email: string; name: string };
  shippingAddress: Address;
  totals: { subtotal: number; shipping: number; tax: number; total: number };
  cancelReason?: string;
  lines: {
    lineNo: number;
    sku: string;
    name: string;
    quantity: number;
    quantityShipped: number;
    quantityCancelled: number;
  }[];
  reservations: { sku: string; warehouse: string; quantity: number; state: string }[];
  shipments: { shipmentId: string; warehouse: string; status: string; carrier?: string; trackingNumber?: string }[];
  payments: { kind: string; status: string; amount: number; failureReason?: string }[];
  invoices: { invoiceId: string; number: string; total: number; status: string; issuedAt: string }[];
  returns: { returnId: string; rmaNumber?: string; status: string; resolution: string }[];
  exceptions: { exceptionId: string; type: string; summary: string }[];
  tickets: { ticketId: string; subject: string; status: string; queue: string }[];
  disputes: { disputeId: string; amount: number; reason: string; status: string; evidenceDueBy: string }[];
  process: {
    stage: string;
    live: boolean;
    waitingFor?: string | null;
    timeline: { at: string; step: string }[] | null;
  };
}

const FINISHED = ['shipped', 'delivered', 'completed', 'cancelled', 'cancel_requested'];

/** Orders: search by reference, customer e-mail, status, channel and date, newest first, a page at a time. */
export function Orders() {
  const { filter, go } = useListUrl('orders', ['ref', 'email', 'status', 'channel']);
  const [form, setForm] = useState({
    ref: filter.ref ?? '',
    email: filter.email ?? '',
    status: filter.status ?? '',
    channel: filter.channel ?? '',
  });
  const list = usePolled(async () => {
    const { data, error } = await api.GET('/v1/orders', { params: { query: { ...filter, limit: 50 } } });
    if (!data) throw new Error(problem(error));
    return data;
  }, [JSON.stringify(filter)]);
  const search = (e: Event) => {
    e.preventDefault();
    go(form);
  };
  const input = fieldsOf(form, setForm, 'f');
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
      <Pager filter={filter} go={go} next={list.data?.next} />
    </main>
  );
}

export function Order({ id }: { id: string }) {
  const { session } = useSession();
  const [said, setSaid] = useState('');
  const o = usePolled(async () => {
    const { data, error } = await api.GET('/v1/orders/{orderId}', { params: { path: { orderId: id } } });
    if (error) throw new Error(problem(error));
    return data as unknown as OrderView;
  }, [id]);
  if (!o.data) return <NotYet title="Order" error={o.error} />;
  const v = o.data;
  const temporalUi = `${location.protocol}//${location.hostname}:8233/namespaces/default/workflows/${encodeURIComponent(v.workflowId)}`;
  const done = (m: string) => (setSaid(m), o.reload());
  const open = !FINISHED.includes(v.status) && v.shipments.every((s) => !['shipped', 'delivered'].includes(s.status));
  const inReview = v.process.waitingFor?.startsWith('payment review') ?? false;
  return (
    <main>
      <h1>
        Order {v.externalRef} <span class="badge">{v.status}</span>
      </h1>
      <p class="status" aria-live="polite">
        {said}
      </p>
      <p>
        {v.channel} · {v.customer.name} &lt;{v.customer.email}&gt; · {money(v.totals.total, v.currency)} ·{' '}
        <a href={temporalUi}>its process in the Temporal UI</a>
        {v.cancelReason && <> · cancelled: {v.cancelReason}</>}
      </p>
      <p>
        Ships to {v.shippingAddress.name}, {v.shippingAddress.line1}, {v.shippingAddress.postalCode}{' '}
        {v.shippingAddress.city}, {v.shippingAddress.country}
      </p>
      {v.exceptions.length > 0 && (
        <ul aria-label="Open cases">
          {v.exceptions.map((e) => (
            <li key={e.exceptionId}>
              <a href={`/console/exceptions/${e.exceptionId}`}>{e.type}</a>: {e.summary}
            </li>
          ))}
        </ul>
      )}
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
      <Listing
        title="Reservations"
        items={v.reservations.map((r) => `${r.quantity} × ${r.sku} at ${r.warehouse}: ${r.state}`)}
      />
      <Listing
        title="Shipments"
        items={v.shipments.map(
          (s) => `${s.warehouse}: ${s.status}${s.trackingNumber ? ` (${s.carrier} ${s.trackingNumber})` : ''}`,
        )}
      />
      <Listing
        title="Payments"
        items={v.payments.map(
          (p) =>
            `${p.kind} ${p.status}: ${money(p.amount, v.currency)}${p.failureReason ? ` (${p.failureReason})` : ''}`,
        )}
      />
      <Listing
        title="Invoices"
        items={v.invoices.map(
          (i) => `${i.number}: ${money(i.total, v.currency)}, ${i.status}, issued ${when(i.issuedAt)}`,
        )}
      />
      <h2>Returns</h2>
      {v.returns.length === 0 && <p>None.</p>}
      <ul>
        {v.returns.map((r) => (
          <li key={r.returnId}>
            <a href={`/console/returns/${r.returnId}`}>{r.rmaNumber ?? r.returnId.slice(0, 8)}</a>: {r.resolution},{' '}
            {r.status}
          </li>
        ))}
      </ul>
      <Listing
        title="Chargebacks"
        items={v.disputes.map(
          (d) =>
            `${money(d.amount, v.currency)} (${d.reason}): ${d.status.replace(/_/g, ' ')}${d.status === 'needs_response' ? `, evidence due ${when(d.evidenceDueBy)}` : ''}`,
        )}
      />
      <h2>Tickets</h2>
      {v.tickets.length === 0 && <p>None.</p>}
      <ul>
        {v.tickets.map((t) => (
          <li key={t.ticketId}>
            <a href={`/console/tickets/${t.ticketId}`}>{t.subject}</a>: {t.status} ({t.queue})
          </li>
        ))}
      </ul>
      {inReview && may(session, 'ops') && <Review orderId={v.orderId} onDone={done} />}
      {open && may(session, 'ops', 'storefront') && (
        <>
          <ChangeAddress orderId={v.orderId} current={v.shippingAddress} onDone={done} />
          <Cancel orderId={v.orderId} onDone={done} />
        </>
      )}
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

function Listing({ title, items }: { title: string; items: string[] }) {
  return (
    <>
      <h2>{title}</h2>
      {items.length === 0 && <p>None.</p>}
      <ul>
        {items.map((t, i) => (
          <li key={i}>{t}</li>
        ))}
      </ul>
    </>
  );
}

/** A form that sends one request and says what happened: the order page's actions. */
function ActionForm({
  title,
  submit,
  children,
  button,
}: {
  title: string;
  submit: () => Promise<string | undefined>; // the error to show, if any
  children: preact.ComponentChildren;
  button: preact.ComponentChildren;
}) {
  const [error, setError] = useState<string>();
  const id = title.toLowerCase().replace(/[^a-z]+/g, '-');
  return (
    <form onSubmit={(e) => (e.preventDefault(), void submit().then(setError))} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
      <div class="actions">{button}</div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </form>
  );
}

function Cancel({ orderId, onDone }: { orderId: string; onDone: (m: string) => void }) {
  const [reason, setReason] = useState('');
  return (
    <ActionForm
      title="Cancel the order"
      button={<button type="submit">Cancel order</button>}
      submit={async () => {
        if (!reason.trim()) return 'Give the reason: the customer is told';
        const r = await api.POST('/v1/orders/{orderId}/cancel', { params: { path: { orderId } }, body: { reason } });
        if (r.error) return problem(r.error);
        onDone('Cancel requested');
      }}
    >
      <label for="cancel-reason">Reason</label>
      <input id="cancel-reason" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
    </ActionForm>
  );
}

function ChangeAddress({
  orderId,
  current,
  onDone,
}: {
  orderId: string;
  current: Address;
  onDone: (m: string) => void;
}) {
  const [addr, setAddr] = useState<Address>(current);
  return (
    <ActionForm
      title="Change the shipping address"
      button={<button type="submit">Change address</button>}
      submit={async () => {
        const r = await api.PUT('/v1/orders/{orderId}/shipping-address', {
          params: { path: { orderId } },
          body: addressBody(addr),
        });
        if (r.error) return problem(r.error);
        onDone('Address changed');
      }}
    >
      <AddressFields legend="New address" value={addr} onChange={setAddr} />
    </ActionForm>
  );
}

function Review({ orderId, onDone }: { orderId: string; onDone: (m: string) => void }) {
  const [note, setNote] = useState('');
  const decide = async (decision: 'release' | 'cancel') => {
    const r = await api.POST('/v1/orders/{orderId}/review', {
      params: { path: { orderId } },
      body: { decision, ...(note ? { note } : {}) },
    });
    if (r.error) return problem(r.error);
    onDone(decision === 'release' ? 'Released for fulfilment' : 'Cancelled after review');
  };
  return (
    <ActionForm
      title="Payment review"
      submit={() => decide('release')}
      button={
        <>
          <button type="submit">Release</button>
          <button type="button" class="secondary" onClick={() => void decide('cancel').then((e) => e && onDone(e))}>
            Cancel the order
          </button>
        </>
      }
    >
      <label for="review-note">Note</label>
      <input id="review-note" value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
    </ActionForm>
  );
}
