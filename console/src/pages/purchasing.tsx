/**
 * Purchasing: purchase orders by status and supplier, and one order with its lines, receipts, bills (each with
 * its three-way match, line by line) and payments. The warehouse records goods received from here.
 */
import { useState } from 'preact/hooks';
import { api, problem } from '../api';
import { money, when } from '../format';
import { Pager, useListUrl } from '../pager';
import { NotYet, usePolled } from '../poll';
import type { components } from '../schema';
import { may, useSession } from '../session';
import { StatusFilter } from '../status-filter';
import { UnitsReceived } from '../units-received';

type PurchaseOrderView = components['schemas']['PurchaseOrderView'];
type Bill = PurchaseOrderView['bills'][number];

const STATUSES = [
  'all',
  'awaiting_approval',
  'sent',
  'partially_received',
  'received',
  'closed',
  'rejected',
  'cancelled',
] as const;
type Status = Exclude<(typeof STATUSES)[number], 'all'>;
const RECEIVABLE = ['sent', 'partially_received'];

export function PurchaseOrders() {
  const { filter, go } = useListUrl('purchase-orders', ['status', 'supplier']);
  const status = (filter.status ?? 'all') as Status | 'all';
  const list = usePolled(async () => {
    const { data, error } = await api.GET('/v1/purchase-orders', {
      params: {
        query: {
          status: status === 'all' ? undefined : status,
          supplier: filter.supplier,
          cursor: filter.cursor,
          limit: 50,
        },
      },
    });
    if (!data) throw new Error(problem(error));
    return data;
  }, [JSON.stringify(filter)]);
  return (
    <main>
      <h1>Purchase orders</h1>
      <StatusFilter page="purchase-orders" value={status} options={STATUSES} />
      {list.error && (
        <p role="alert" class="error">
          {list.error}
        </p>
      )}
      {list.data?.purchaseOrders.length === 0 && <p>No purchase orders match.</p>}
      <table>
        <caption class="visually-hidden">Purchase orders, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Supplier</th>
            <th scope="col">Warehouse</th>
            <th scope="col">Status</th>
            <th scope="col">Total</th>
            <th scope="col">Expected</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.purchaseOrders.map((po) => (
            <tr key={po.poId}>
              <td>
                <a href={`/console/purchase-orders/${po.poId}`}>{po.number}</a>
              </td>
              <td>
                <a href={`/console/purchase-orders?supplier=${encodeURIComponent(po.supplier)}`}>{po.supplier}</a>
              </td>
              <td>{po.warehouse}</td>
              <td>{po.status}</td>
              <td>{money(po.total, po.currency)}</td>
              <td>{when(po.expectedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager filter={filter} go={go} next={list.data?.next} />
    </main>
  );
}

export function PurchaseOrder({ id }: { id: string }) {
  const { session } = useSession();
  const [said, setSaid] = useState('');
  const po = usePolled(async () => {
    const { data, error } = await api.GET('/v1/purchase-orders/{poId}', { params: { path: { poId: id } } });
    if (!data) throw new Error(problem(error));
    return data;
  }, [id]);
  if (!po.data) return <NotYet title="Purchase order" error={po.error} />;
  const v = po.data;
  return (
    <main>
      <h1>
        Purchase order {v.number} <span class="badge">{v.status}</span>
      </h1>
      <p class="status" aria-live="polite">
        {said}
      </p>
      <p>
        {v.supplierName} ({v.supplier}) → {v.warehouse} · {money(v.total, v.currency)} · {v.origin} · created{' '}
        {when(v.createdAt)}
        {v.expectedAt && <> · expected {when(v.expectedAt)}</>}
        {v.decidedBy && <> · decided by {v.decidedBy}</>}
      </p>
      {v.status === 'awaiting_approval' && may(session, 'approver') && (
        <p>
          Waiting for your decision: <a href="/console/inbox">decide it in the approvals inbox</a>.
        </p>
      )}
      <h2>Lines</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">Ordered</th>
            <th scope="col">Unit price</th>
            <th scope="col">Received</th>
            <th scope="col">Quarantined</th>
            <th scope="col">Billed</th>
            <th scope="col">Cancelled</th>
          </tr>
        </thead>
        <tbody>
          {v.lines.map((l) => (
            <tr key={l.sku}>
              <td>{l.sku}</td>
              <td>{l.quantity}</td>
              <td>{money(l.unitPrice, v.currency)}</td>
              <td>{l.received}</td>
              <td>{l.quarantined}</td>
              <td>{l.billed}</td>
              <td>{l.cancelled}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {RECEIVABLE.includes(v.status) && may(session, 'warehouse') && (
        <Receive po={v} onDone={(m) => (setSaid(m), po.reload())} />
      )}
      <h2>Receipts</h2>
      {v.receipts.length === 0 && <p>Nothing received yet.</p>}
      <ul>
        {v.receipts.map((r) => (
          <li key={r.receiptId}>{when(r.receivedAt)}</li>
        ))}
      </ul>
      <h2>Bills</h2>
      {v.bills.length === 0 && <p>No bill yet.</p>}
      {v.bills.map((b) => (
        <BillMatch key={b.billId} bill={b} currency={v.currency} />
      ))}
      <h2>Payments</h2>
      {v.payments.length === 0 && <p>Nothing paid yet.</p>}
      <ul>
        {v.payments.map((p) => (
          <li key={p.bankReference}>
            {money(p.amount, v.currency)} on {when(p.paidAt)} ({p.bankReference})
          </li>
        ))}
      </ul>
    </main>
  );
}

/** A bill and its three-way match: ordered, received and not yet billed, billed; price ordered against billed. */
function BillMatch({ bill, currency }: { bill: Bill; currency: string }) {
  const ok = (yes: boolean) => <span class={yes ? 'ok' : 'late'}>{yes ? '✓ matches' : '✗ mismatch'}</span>;
  return (
    <section aria-labelledby={`bill-${bill.billId}`}>
      <h3 id={`bill-${bill.billId}`}>
        {bill.kind === 'credit_note' ? 'Credit note' : 'Bill'} {bill.supplierInvoiceRef}{' '}
        <span class="badge">{bill.status}</span>
      </h3>
      <p>
        {money(bill.subtotal, currency)} + tax {money(bill.tax, currency)} = {money(bill.total, currency)}
        {bill.dueAt && <> · due {when(bill.dueAt)}</>}
      </p>
      {bill.match && (
        <table>
          <caption>Three-way match of {bill.supplierInvoiceRef}, line by line</caption>
          <thead>
            <tr>
              <th scope="col">SKU</th>
              <th scope="col">Ordered</th>
              <th scope="col">Received, not yet billed</th>
              <th scope="col">Billed</th>
              <th scope="col">Quantity</th>
              <th scope="col">Order price</th>
              <th scope="col">Billed price</th>
              <th scope="col">Price</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {bill.match.map((m) => (
              <tr key={m.sku}>
                <td>{m.sku}</td>
                <td>{m.ordered}</td>
                <td>{m.billable}</td>
                <td>{m.billed}</td>
                <td>{ok(m.quantityOk)}</td>
                <td>{money(m.orderPrice, currency)}</td>
                <td>{money(m.billedPrice, currency)}</td>
                <td>{ok(m.priceOk)}</td>
                <td>{m.problem ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Goods arrived: how many of each open line are in the delivery. */
function Receive({ po, onDone }: { po: PurchaseOrderView; onDone: (m: string) => void }) {
  const open = po.lines.filter((l) => l.received + l.cancelled < l.quantity);
  return (
    <UnitsReceived
      title="Receive goods"
      lines={open.map((l) => ({
        sku: l.sku,
        label: `Units of ${l.sku} delivered (${l.quantity - l.received - l.cancelled} outstanding)`,
      }))}
      send={(lines, headers) =>
        api.POST('/v1/purchase-orders/{poId}/receipts', {
          params: { path: { poId: po.poId } },
          headers,
          body: { lines },
        })
      }
      done={(units) => onDone(`Receipt recorded: ${units} units`)}
    />
  );
}
