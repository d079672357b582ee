/** Tickets: the queue (by status, newest first), and a ticket worked to the end: assign, note, reply, move. */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, problem } from '../api';
import { StatusFilter } from '../status-filter';
import { when } from '../format';
import { NotYet, usePolled } from '../poll';
import { useSession } from '../session';

type Status = 'open' | 'pending' | 'solved' | 'closed';
const STATUSES: Status[] = ['open', 'pending', 'solved', 'closed'];

interface Ticket {
  ticketId: string;
  customerEmail: string;
  orderId?: string;
  subject: string;
  body?: string;
  category: string;
  queue: string;
  priority: string;
  status: Status;
  assignee?: string;
  suggestedAnswer?: string;
  createdAt: string;
  messages?: { kind: 'note' | 'reply'; author: string; body: string; createdAt: string }[];
}

export function Tickets() {
  const { query } = useLocation();
  const status = (query.status as Status | undefined) ?? 'open';
  const list = usePolled(async () => {
    const { data, error } = await api.GET('/v1/tickets', { params: { query: { status, limit: 100 } } });
    if (error) throw new Error(problem(error));
    return (data as unknown as { tickets: Ticket[] }).tickets;
  }, [status]);
  return (
    <main>
      <h1>Tickets</h1>
      <StatusFilter page="tickets" value={status} options={STATUSES} />
      {list.error && (
        <p role="alert" class="error">
          {list.error}
        </p>
      )}
      {list.data?.length === 0 && <p>No {status} tickets.</p>}
      <table>
        <caption class="visually-hidden">Tickets, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">Customer</th>
            <th scope="col">Queue</th>
            <th scope="col">Priority</th>
            <th scope="col">Assignee</th>
            <th scope="col">Received</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.map((t) => (
            <tr key={t.ticketId}>
              <td>
                <a href={`/console/tickets/${t.ticketId}`}>{t.subject}</a>
              </td>
              <td>{t.customerEmail}</td>
              <td>{t.queue}</td>
              <td>{t.priority}</td>
              <td>{t.assignee ?? '–'}</td>
              <td>{when(t.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

export function TicketPage({ id }: { id: string }) {
  const { session } = useSession();
  const [said, setSaid] = useState('');
  const [text, setText] = useState('');
  const t = usePolled(async () => {
    const { data, error } = await api.GET('/v1/tickets/{id}', { params: { path: { id } } });
    if (error) throw new Error(problem(error));
    return data as unknown as Ticket;
  }, [id]);
  if (!t.data) return <NotYet title="Ticket" error={t.error} />;
  const v = t.data;
  const done = (r: { error?: unknown }, ok: string) => (setSaid(r.error ? problem(r.error) : ok), t.reload());
  const assign = async (assignee: string | null) =>
    done(
      await api.PUT('/v1/tickets/{id}/assignee', { params: { path: { id } }, body: { assignee } }),
      assignee ? `Assigned to ${assignee}` : 'Back to the queue',
    );
  const move = async (status: Status) =>
    done(await api.PUT('/v1/tickets/{id}/status', { params: { path: { id } }, body: { status } }), `Now ${status}`);
  const send = async (kind: 'note' | 'reply') => {
    if (!text.trim()) return setSaid('Write the message first');
    const r = await api.POST('/v1/tickets/{id}/messages', { params: { path: { id } }, body: { kind, body: text } });
    if (!r.error) setText('');
    done(r, kind === 'reply' ? 'Reply sent to the customer' : 'Note added');
  };
  return (
    <main>
      <h1>
        {v.subject} <span class="badge">{v.status}</span>
      </h1>
      <p>
        {v.customerEmail} · {v.category} · {v.queue} · {v.priority} priority · {when(v.createdAt)}
        {v.orderId && (
          <>
            {' '}
            · <a href={`/console/orders/${v.orderId}`}>the order</a>
          </>
        )}
      </p>
      <p class="status" aria-live="polite">
        {said}
      </p>
      <blockquote>{v.body}</blockquote>
      {v.suggestedAnswer && <p class="hint">Suggested answer: {v.suggestedAnswer}</p>}
      <div class="actions">
        {v.assignee !== session.name && <button onClick={() => void assign(session.name)}>Assign to me</button>}
        {v.assignee && (
          <button class="secondary" onClick={() => void assign(null)}>
            Give back to the queue
          </button>
        )}
        {STATUSES.filter((s) => s !== v.status && v.status !== 'closed').map((s) => (
          <button key={s} class="secondary" onClick={() => void move(s)}>
            Mark {s}
          </button>
        ))}
      </div>
      <h2>Conversation</h2>
      <ol class="cards">
        {(v.messages ?? []).map((m, i) => (
          <li key={i} class="card">
            <strong>{m.kind === 'reply' ? `Reply by ${m.author}` : `Note by ${m.author}`}</strong> · {when(m.createdAt)}
            <p>{m.body}</p>
          </li>
        ))}
      </ol>
      {v.status !== 'closed' && (
        <form onSubmit={(e) => (e.preventDefault(), void send('reply'))}>
          <label for="ticket-text">Message</label>
          <textarea
            id="ticket-text"
            rows={4}
            value={text}
            onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
          />
          <div class="actions">
            <button type="submit">Reply to the customer</button>
            <button type="button" class="secondary" onClick={() => void send('note')}>
              Add internal note
            </button>
          </div>
        </form>
      )}
    </main>
  );
}
