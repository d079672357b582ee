/** Admin: API keys (list, create, revoke) and the audit log with filters, a page at a time. */
import { useState } from 'preact/hooks';
import { api, problem } from '../api';
import { fieldsOf } from '../field';
import { when } from '../format';
import { Pager, useListUrl } from '../pager';
import { usePolled } from '../poll';

const ROLES = ['storefront', 'warehouse', 'approver', 'ops', 'procurement', 'finance', 'admin'] as const;
type Role = (typeof ROLES)[number];

export function Admin() {
  return (
    <main>
      <h1>Admin</h1>
      <Keys />
      <Audit />
    </main>
  );
}

function Keys() {
  const [name, setName] = useState('');
  const [roles, setRoles] = useState<Role[]>([]);
  const [created, setCreated] = useState<string>();
  const [error, setError] = useState<string>();
  const keys = usePolled(async () => {
    const { data, error } = await api.GET('/v1/api-keys');
    if (!data) throw new Error(problem(error));
    return data.keys;
  }, []);
  const create = async (e: Event) => {
    e.preventDefault();
    const r = await api.POST('/v1/api-keys', { body: { name, roles } });
    if (!r.data) return setError(problem(r.error));
    setCreated(`Key for ${r.data.name}: ${r.data.key} (shown once: give it to its owner now)`);
    setError(undefined);
    keys.reload();
  };
  const revoke = async (id: string) => {
    const r = await api.DELETE('/v1/api-keys/{id}', { params: { path: { id } } });
    if (r.error) setError(problem(r.error));
    keys.reload();
  };
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <form onSubmit={create}>
        <label for="key-name">Name</label>
        <input id="key-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required />
        <fieldset>
          <legend>Roles</legend>
          {ROLES.map((r) => (
            <label class="inline" key={r}>
              <input
                type="checkbox"
                checked={roles.includes(r)}
                onChange={(e) =>
                  setRoles((e.target as HTMLInputElement).checked ? [...roles, r] : roles.filter((x) => x !== r))
                }
              />
              {r}
            </label>
          ))}
        </fieldset>
        <button type="submit">Create key</button>
      </form>
      <p class="status" aria-live="polite">
        {created}
      </p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <table>
        <caption class="visually-hidden">API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Starts with</th>
            <th scope="col">Roles</th>
            <th scope="col">Created</th>
            <th scope="col">Revoked</th>
          </tr>
        </thead>
        <tbody>
          {keys.data?.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{k.roles.join(', ')}</td>
              <td>{when(k.createdAt)}</td>
              <td>
                {k.revokedAt ? (
                  when(k.revokedAt)
                ) : (
                  <button class="secondary" onClick={() => void revoke(k.id)} aria-label={`Revoke ${k.name}`}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Audit() {
  const { filter, go } = useListUrl('admin', ['action']);
  const [form, setForm] = useState({ action: filter.action ?? '' });
  const log = usePolled(async () => {
    const { data, error } = await api.GET('/v1/audit', { params: { query: { ...filter, limit: 50 } } });
    if (!data) throw new Error(problem(error));
    return data;
  }, [JSON.stringify(filter)]);
  const field = fieldsOf(form, setForm, 'audit');
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <form class="filters" onSubmit={(e) => (e.preventDefault(), go(form))}>
        {field('action', 'Action', { placeholder: 'e.g. return.decide' })}
        <button type="submit">Filter</button>
      </form>
      {log.error && (
        <p role="alert" class="error">
          {log.error}
        </p>
      )}
      <table>
        <caption class="visually-hidden">Audit entries, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {log.data?.entries.map((a) => (
            <tr key={a.id}>
              <td>{when(a.at)}</td>
              <td>{a.keyName}</td>
              <td>{a.action}</td>
              <td>{a.target ?? '–'}</td>
              <td>{a.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager filter={filter} go={go} next={log.data?.next} />
    </section>
  );
}
