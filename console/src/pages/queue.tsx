/** Exception queue: cases that need a person, oldest first; filters, claim, and the allowed resolutions. */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { addressBody, AddressFields, emptyAddress, type Address } from '../address';
import { api, problem } from '../api';
import { countdown, when } from '../format';
import { NotYet, usePolled } from '../poll';

export function Queue() {
  const { query, route } = useLocation();
  const [type, setType] = useState(query.type ?? '');
  const breached = query.breached === 'true';
  const list = usePolled(async () => {
    const { data, error } = await api.GET('/v1/exceptions', {
      params: {
        query: {
          status: 'open',
          ...(query.type ? { type: query.type } : {}),
          ...(breached ? { slaBreached: 'true' } : {}),
        },
      },
    });
    if (!data) throw new Error(problem(error));
    return data.exceptions;
  }, [query.type, query.breached]);
  const now = Date.now();
  const filter = (e: Event) => {
    e.preventDefault();
    const q = new URLSearchParams({ ...(type ? { type } : {}), ...(breached ? { breached: 'true' } : {}) });
    route(`/console/exceptions${q.size ? `?${q}` : ''}`);
  };
  return (
    <main>
      <h1>Exception queue</h1>
      <form class="filters" onSubmit={filter}>
        <label for="type">Type</label>
        <input
          id="type"
          value={type}
          placeholder="e.g. invalid_address"
          onInput={(e) => setType((e.target as HTMLInputElement).value)}
        />
        <label class="inline">
          <input
            type="checkbox"
            checked={breached}
            onChange={(e) =>
              route(
                `/console/exceptions?${new URLSearchParams({ ...(query.type ? { type: query.type } : {}), ...((e.target as HTMLInputElement).checked ? { breached: 'true' } : {}) })}`,
              )
            }
          />
          SLA breached only
        </label>
        <button type="submit">Filter</button>
      </form>
      {list.error && (
        <p role="alert" class="error">
          {list.error}
        </p>
      )}
      {list.data?.length === 0 && <p>No open cases.</p>}
      <table>
        <caption class="visually-hidden">Open cases</caption>
        <thead>
          <tr>
            <th scope="col">Case</th>
            <th scope="col">Queue</th>
            <th scope="col">Opened</th>
            <th scope="col">SLA</th>
            <th scope="col">Claimed by</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.map((c) => (
            <tr key={c.exceptionId} class={c.slaBreached ? 'breached' : ''}>
              <td>
                <a href={`/console/exceptions/${c.exceptionId}`}>{c.type}</a>
                <div class="muted">{c.summary}</div>
              </td>
              <td>{c.queue}</td>
              <td>{when(c.openedAt)}</td>
              <td>{c.slaDueAt ? countdown(c.slaDueAt, now) : '–'}</td>
              <td>{c.claimedBy ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

export function Case({ id }: { id: string }) {
  const [said, setSaid] = useState('');
  const c = usePolled(async () => {
    const { data, error } = await api.GET('/v1/exceptions/{id}', { params: { path: { id } } });
    if (!data) throw new Error(problem(error));
    return data;
  }, [id]);
  const claim = async () => {
    const r = await api.POST('/v1/exceptions/{id}/claim', { params: { path: { id } } });
    setSaid(r.error ? problem(r.error) : 'Claimed');
    c.reload();
  };
  if (!c.data) return <NotYet title="Case" error={c.error} />;
  const e = c.data;
  return (
    <main>
      <h1>
        {e.type} <span class="badge">{e.status}</span>
      </h1>
      <p>{e.summary}</p>
      <p class="status" aria-live="polite">
        {said}
      </p>
      <dl>
        <dt>Queue</dt>
        <dd>
          {e.queue} ({e.severity})
        </dd>
        <dt>Opened</dt>
        <dd>{when(e.openedAt)}</dd>
        <dt>Claimed by</dt>
        <dd>{e.claimedBy ?? 'nobody'}</dd>
        {e.context.order && (
          <>
            <dt>Order</dt>
            <dd>
              <a href={`/console/orders/${e.context.order.orderId}`}>{e.context.order.orderId}</a> (
              {e.context.order.status}), {e.context.order.customer.name} &lt;{e.context.order.customer.email}&gt;
            </dd>
            <dt>Ships to</dt>
            <dd>
              {[
                e.context.order.shippingAddress.line1,
                e.context.order.shippingAddress.postalCode,
                e.context.order.shippingAddress.city,
                e.context.order.shippingAddress.country,
              ].join(', ')}
            </dd>
          </>
        )}
        {e.context.process && (
          <>
            <dt>Process</dt>
            <dd>
              {e.context.process.stage}, waiting for {String(e.context.process.waitingFor ?? 'nothing')}
            </dd>
          </>
        )}
      </dl>
      {e.status === 'open' && !e.claimedBy && <button onClick={() => void claim()}>Claim</button>}
      {e.status === 'open' && (
        <Resolve
          id={id}
          actions={e.allowedActions}
          address={e.context.order?.shippingAddress}
          onDone={(m) => (setSaid(m), c.reload())}
        />
      )}
    </main>
  );
}

function Resolve({
  id,
  actions,
  address,
  onDone,
}: {
  id: string;
  actions: { action: string; effect: string }[];
  address?: Address;
  onDone: (m: string) => void;
}) {
  const [action, setAction] = useState(actions[0]?.action ?? '');
  const [note, setNote] = useState('');
  const [addr, setAddr] = useState<Address>(address ?? emptyAddress);
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    const data = action === 'correct_address' ? { address: addressBody(addr) } : undefined;
    const r = await api.POST('/v1/exceptions/{id}/resolution', {
      params: { path: { id } },
      body: { action, note, ...(data ? { data } : {}) },
    });
    if (r.error) return setError(problem(r.error));
    onDone(`Resolved: ${action}`);
  };
  return (
    <form onSubmit={submit} aria-labelledby="resolve-title">
      <h2 id="resolve-title">Resolve</h2>
      <fieldset>
        <legend>Action</legend>
        {actions.map((a) => (
          <label class="inline" key={a.action}>
            <input
              type="radio"
              name="action"
              value={a.action}
              checked={action === a.action}
              onChange={() => setAction(a.action)}
            />
            {a.action}: <span class="muted">{a.effect}</span>
          </label>
        ))}
      </fieldset>
      {action === 'correct_address' && <AddressFields legend="Corrected address" value={addr} onChange={setAddr} />}
      <label for="resolve-note">Note</label>
      <input id="resolve-note" value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} required />
      <button type="submit">Resolve</button>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </form>
  );
}
