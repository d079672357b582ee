/** Exception queue: cases that need a person, oldest first; filters, claim, and the allowed resolutions. */
import { useState } from 'preact/hooks';
import { addressBody, AddressFields, emptyAddress, type Address } from '../address';
import { api, problem } from '../api';
import { fieldsOf } from '../field';
import { countdown, when } from '../format';
import { useListUrl } from '../pager';
import { NotYet, usePolled } from '../poll';

const AGES = [
  { minutes: '', label: 'any age' },
  { minutes: '60', label: 'older than 1 hour' },
  { minutes: '240', label: 'older than 4 hours' },
  { minutes: '1440', label: 'older than a day' },
  { minutes: '4320', label: 'older than 3 days' },
];

export function Queue() {
  const { filter, go } = useListUrl('exceptions', ['type', 'queue', 'breached', 'age']);
  const [form, setForm] = useState({ type: filter.type ?? '', queue: filter.queue ?? '' });
  const list = usePolled(async () => {
    const { data, error } = await api.GET('/v1/exceptions', {
      params: {
        query: {
          status: 'open',
          type: filter.type,
          queue: filter.queue,
          ...(filter.breached === 'true' ? { slaBreached: 'true' } : {}),
          ...(filter.age ? { minAgeMinutes: Number(filter.age) } : {}),
        },
      },
    });
    if (!data) throw new Error(problem(error));
    return data.exceptions;
  }, [JSON.stringify(filter)]);
  const now = Date.now();
  const text = fieldsOf(form, setForm, 'q');
  return (
    <main>
      <h1>Exception queue</h1>
      <form class="filters" onSubmit={(e) => (e.preventDefault(), go({ ...filter, ...form, cursor: '' }))}>
        {text('type', 'Type', { placeholder: 'e.g. invalid_address' })}
        {text('queue', 'Queue', { placeholder: 'e.g. logistics' })}
        <div>
          <label for="q-age">Age</label>
          <select
            id="q-age"
            value={filter.age ?? ''}
            onChange={(e) => go({ ...filter, age: (e.target as HTMLSelectElement).value })}
          >
            {AGES.map((a) => (
              <option key={a.minutes} value={a.minutes}>
                {a.label}
              </option>
            ))}
          </select>
        </div>
        <label class="inline">
          <input
            type="checkbox"
            checked={filter.breached === 'true'}
            onChange={(e) => go({ ...filter, breached: (e.target as HTMLInputElement).checked ? 'true' : '' })}
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
