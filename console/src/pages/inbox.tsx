/**
 * Approvals inbox: refunds and purchase orders waiting on a person, oldest first, with their SLA. Keyboard:
 * j / k move between requests, d (or Enter) opens the decision with its context, Esc closes it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, problem } from '../api';
import type { ReturnView } from './returns';
import type { components } from '../schema';
import { countdown, money, when } from '../format';
import { usePolled } from '../poll';
import { may, useSession } from '../session';

type Approval = components['schemas']['ApprovalList']['approvals'][number];

export function Inbox() {
  const { session } = useSession();
  const [said, setSaid] = useState('');
  const [selectedId, setSelectedId] = useState<string>(); // by id: the list changes under the person as others decide
  const [openId, setOpenId] = useState<string>();
  const inbox = usePolled(async () => {
    const { data, error } = await api.GET('/v1/approvals', { params: { query: { status: 'pending', limit: 1000 } } });
    if (!data) throw new Error(problem(error));
    return data.approvals;
  }, []);
  const now = Date.now();
  const items = inbox.data ?? [];
  const selectedAt = (list: Approval[], id: string | undefined) =>
    Math.max(
      0,
      list.findIndex((a) => a.approvalId === id),
    );
  const selected = selectedAt(items, selectedId);
  // The listener reads the latest list and selection from here: a key pressed right after the last one (before
  // an effect could re-register a listener) must act on what the screen shows, not on what it showed before.
  const latest = useRef({ items, selectedId });
  latest.current = { items, selectedId };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) {
        if (e.key === 'Escape') setOpenId(undefined);
        return;
      }
      const { items, selectedId } = latest.current;
      if (e.altKey || e.ctrlKey || e.metaKey || items.length === 0) return;
      const at = selectedAt(items, selectedId);
      const move = (to: number) =>
        setSelectedId((latest.current.selectedId = items[Math.max(0, Math.min(to, items.length - 1))].approvalId));
      if (e.key === 'j') move(at + 1);
      else if (e.key === 'k') move(at - 1);
      else if (e.key === 'd' && may(session, 'approver')) setOpenId(items[at].approvalId);
      else if (e.key === 'Escape') setOpenId(undefined);
      else return;
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  return (
    <main>
      <h1>Approvals inbox</h1>
      <p class="hint">
        Keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous, <kbd>d</kbd> decide, <kbd>Enter</kbd> approve with the note,{' '}
        <kbd>Esc</kbd> close.
      </p>
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
        {items.map((a, i) => (
          <li key={a.approvalId} class={a.slaBreached ? 'card breached' : 'card'}>
            <Item
              a={a}
              now={now}
              selected={i === selected}
              open={openId === a.approvalId}
              setOpen={(o) => (setSelectedId(a.approvalId), setOpenId(o ? a.approvalId : undefined))}
              canDecide={may(session, 'approver')}
              onDecided={(m) => (setSaid(m), setOpenId(undefined), inbox.reload())}
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
  selected,
  open,
  setOpen,
  canDecide,
  onDecided,
}: {
  a: Approval;
  now: number;
  selected: boolean;
  open: boolean; // the form (and its context) is drawn when asked for: a long inbox stays quick
  setOpen: (open: boolean) => void;
  canDecide: boolean;
  onDecided: (m: string) => void;
}) {
  const article = useRef<HTMLElement>(null);
  const noteField = useRef<HTMLInputElement>(null);
  useEffect(() => void (open && noteField.current?.focus()), [open]); // autofocus does not apply to a form drawn later
  useEffect(() => {
    if (selected && !open && document.activeElement?.tagName !== 'INPUT') article.current?.focus();
  }, [selected, open]);
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
    <article ref={article} tabIndex={-1} aria-labelledby={`${id}-title`} aria-current={selected ? 'true' : undefined}>
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
          <Context a={a} />
          <label for={`${id}-note`}>Note</label>
          <input
            id={`${id}-note`}
            ref={noteField}
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

/** What the approver needs to decide: the return's lines, reasons and inspection grades, or the PO's lines and supplier. */
function Context({ a }: { a: Approval }) {
  const [text, setText] = useState<{ head: string; lines: string[] }>();
  useEffect(() => {
    void (a.kind === 'refund' ? returnContext(a.subjectId) : purchaseContext(a.subjectId)).then(setText, () =>
      setText({ head: 'The details could not be loaded; open the link above.', lines: [] }),
    );
  }, [a.subjectId]);
  if (!text) return <p>Loading the details…</p>;
  return (
    <div class="context">
      <p>{text.head}</p>
      <ul>
        {text.lines.map((l) => (
          <li key={l}>{l}</li>
        ))}
      </ul>
    </div>
  );
}

async function returnContext(returnId: string) {
  const { data, error } = await api.GET('/v1/returns/{returnId}', { params: { path: { returnId } } });
  if (error) throw new Error(problem(error));
  const r = data as unknown as ReturnView;
  return {
    head: `Return ${r.rmaNumber ?? ''} of order ${r.orderId.slice(0, 8)} · ${r.resolution}`,
    lines: [
      ...r.lines.map((l) => `${l.quantity} × ${l.sku}: ${l.reason} (received ${l.quantityReceived})`),
      ...r.inspections.map((i) => `inspected ${i.quantity} × ${i.sku}: ${i.condition} → ${i.disposition}`),
    ],
  };
}

async function purchaseContext(poId: string) {
  const { data, error } = await api.GET('/v1/purchase-orders/{poId}', { params: { path: { poId } } });
  if (!data) throw new Error(problem(error));
  return {
    head: `${data.number} from ${data.supplierName} (${data.supplier}) to ${data.warehouse}${data.note ? ` · ${data.note}` : ''}`,
    lines: data.lines.map((l) => `${l.quantity} × ${l.sku} at ${money(l.unitPrice, data.currency)}`),
  };
}
