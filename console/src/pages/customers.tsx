/** A customer in one view: orders, shipments, returns, refunds, tickets and open cases. */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, problem } from '../api';
import { money, when } from '../format';
import { usePolled } from '../poll';

interface Overview {
  customer: { email: string; name: string; since: string };
  orders: {
    orderId: string;
    externalRef: string;
    channel: string;
    stage: string;
    total: number;
    currency: string;
    placedAt: string;
  }[];
  returns: { returnId: string; orderId: string; stage: string; resolution: string; requestedAt: string }[];
  refunds: { orderId: string; amount: number; currency: string; status: string; at: string }[];
  tickets: { ticketId: string; subject: string; status: string; createdAt: string }[];
  exceptions: { exceptionId: string; type: string; summary: string; openedAt: string }[];
}

export function Customers() {
  const { query, route } = useLocation();
  const [email, setEmail] = useState(query.email ?? '');
  const shown = query.email;
  const view = usePolled(async () => {
    if (!shown) return undefined;
    const { data, error } = await api.GET('/v1/customers/{email}/overview', { params: { path: { email: shown } } });
    if (error) throw new Error(problem(error));
    return data as unknown as Overview;
  }, [shown]);
  const v = view.data;
  return (
    <main>
      <h1>Customers</h1>
      <form
        class="filters"
        onSubmit={(e) => (e.preventDefault(), route(`/console/customers?email=${encodeURIComponent(email.trim())}`))}
      >
        <div>
          <label for="customer-email">E-mail</label>
          <input
            id="customer-email"
            type="email"
            value={email}
            onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
            required
          />
        </div>
        <button type="submit">Show</button>
      </form>
      {view.error && (
        <p role="alert" class="error">
          {view.error}
        </p>
      )}
      {v && (
        <>
          <h2>
            {v.customer.name} <span class="muted">customer since {when(v.customer.since)}</span>
          </h2>
          <h3>Orders</h3>
          <ul>
            {v.orders.map((o) => (
              <li key={o.orderId}>
                <a href={`/console/orders/${o.orderId}`}>{o.externalRef}</a> · {o.channel} · {o.stage} ·{' '}
                {money(o.total, o.currency)} · {when(o.placedAt)}
              </li>
            ))}
          </ul>
          <h3>Returns and refunds</h3>
          <ul>
            {v.returns.map((r) => (
              <li key={r.returnId}>
                <a href={`/console/returns/${r.returnId}`}>Return</a> · {r.resolution} · {r.stage} ·{' '}
                {when(r.requestedAt)}
              </li>
            ))}
            {v.refunds.map((r, i) => (
              <li key={`refund-${i}`}>
                Refund {money(r.amount, r.currency)} · {r.status} · {when(r.at)}
              </li>
            ))}
          </ul>
          <h3>Tickets</h3>
          <ul>
            {v.tickets.map((t) => (
              <li key={t.ticketId}>
                <a href={`/console/tickets/${t.ticketId}`}>{t.subject}</a> · {t.status} · {when(t.createdAt)}
              </li>
            ))}
          </ul>
          <h3>Open cases</h3>
          <ul>
            {v.exceptions.map((e) => (
              <li key={e.exceptionId}>
                <a href={`/console/exceptions/${e.exceptionId}`}>{e.type}</a> · {e.summary}
              </li>
            ))}
          </ul>
        </>
      )}
    </main>
  );
}
