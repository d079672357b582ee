/** Approvals inbox: refunds and purchase orders waiting on a person, oldest first, with their SLA. */
import { useState } from 'preact/hooks';
import { api, problem } from '../api';
import type { components } from '../schema';
import { countdown, money, when } from '../format';
import { usePolled } from '../poll';
import { may, useSession } from '../session';

type Approval = components['schemas']['ApprovalList']['approvals'][number];

export function Inbox() {
  const { session } = useSession();
  const [said, setSaid] = useState('');
  const inbox = usePolled(async () => {
    const { data, error } = await api.GET('/v1/approvals', { params: { query: { status: 'pending', limit: 1000 } } });
    if (!data) throw new Error(problem(error));
    return data.approvals;
  }, []);
  const now = Date.now();
  return (
    <main>
      <h1>Approvals inbox</h1>
      <p class="status" aria-live="polite">
        {said}
      </p>
      {inbox.error && (
        <p role="alert" class="error">
          {inbox.error}
        </p>
      )}
      {inbox.data?.length === 0 && <p>Nothing is waiting for a decision.</p>}
      <ul class="cards" aria-label="Waiting approvals">
        {inbox.data?.map((a) => (
          <li key={a.approvalId} class={a.slaBreached ? 'card breached' : 'card'}>
            <Item
              a={a}
              now={now}
              canDecide={may(session, 'approver')}
              onDecided={(m) => (setSaid(m), inbox.reload())}
            />
          </li>
        ))}
      </ul>
    </main>
  );
}

function Item({
  a,
  now,
  canDecide,
  onDecided,
}: {
  a: Approval;
  now: number;
  canDecide: boolean;
  onDecided: (m: string) => void;
}) {
  const [open, setOpen] = useState(false); // the form is drawn when asked for: a long inbox stays quick
  const [note, setNote] = useState('');
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<string>();
  const refund = a.kind === 'refund';
  const decide = async (decision: 'approve' | 'reject' | 'partial') => {
    if (!note.trim()) return setError('Write a note: it is kept with the decision');
    const r = refund
      ? await api.POST('/v1/returns/{returnId}/decision', {
          params: { path: { returnId: a.subjectId } },
          body: { decision, note, ...(decision === 'partial' ? { amount: Math.round(Number(amount) * 100) } : {}) },
        })
      : await api.POST('/v1/purchase-orders/{poId}/decision', {
          params: { path: { poId: a.subjectId } },
          body: { decision: decision === 'reject' ? 'reject' : 'approve', note },
        });
    if (r.error) return setError(problem(r.error));
    onDecided(
      `${refund ? 'Refund' : 'Purchase order'} ${decision === 'approve' ? 'approved' : decision === 'reject' ? 'rejected' : 'partly approved'}`,
    );
  };
  const id = `approval-${a.approvalId}`;
  return (
    <article aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        {refund ? 'Refund' : 'Purchase order'} of {money(a.amount, a.currency)}
      </h2>
      <p>
        {a.reason ?? 'no reason given'} · requested {when(a.requestedAt)} ·{' '}
        <strong class={a.slaBreached ? 'late' : ''}>{countdown(a.slaDueAt, now)}</strong>
        {a.escalatedAt && <span class="badge">escalated</span>}
      </p>
      <p>
        <a href={refund ? `/console/returns/${a.subjectId}` : `/console/purchase-orders/${a.subjectId}`}>
          {refund ? 'The return' : 'The purchase order'}
        </a>
      </p>
      {canDecide && !open && (
        <button type="button" aria-expanded="false" onClick={() => setOpen(true)}>
          Decide…
        </button>
      )}
      {canDecide && open && (
        <form onSubmit={(e) => (e.preventDefault(), void decide('approve'))}>
          <label for={`${id}-note`}>Note</label>
          <input
            id={`${id}-note`}
            autoFocus
            value={note}
            onInput={(e) => setNote((e.target as HTMLInputElement).value)}
          />
          {refund && (
            <>
              <label for={`${id}-amount`}>Partial amount ({a.currency})</label>
              <input
                id={`${id}-amount`}
                inputMode="decimal"
                value={amount}
                onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
              />
            </>
          )}
          <div class="actions">
            <button type="submit">Approve</button>
            <button type="button" class="secondary" onClick={() => void decide('reject')}>
              Reject
            </button>
            {refund && (
              <button type="button" class="secondary" onClick={() => void decide('partial')}>
                Approve part
              </button>
            )}
          </div>
          {error && (
            <p role="alert" class="error">
              {error}
            </p>
          )}
        </form>
      )}
    </article>
  );
}
