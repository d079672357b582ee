/**
 * The operations report with charts: backlog by stage, fulfilment p50/p90 day by day, SLA breaches, return rate
 * and stockout risks. Loaded on demand (it carries the chart library), refreshed every minute.
 */
import { useLocation } from 'preact-iso';
import { api, problem } from '../api';
import { ChartFigure } from '../chart';
import { when } from '../format';
import { NotYet, usePolled } from '../poll';

const WINDOWS = ['7', '30', '90'];

export default function Reports() {
  const { query, route } = useLocation();
  const days = WINDOWS.includes(query.days ?? '') ? query.days! : '30';
  const report = usePolled(
    async () => {
      const { data, error } = await api.GET('/v1/reports/operations', {
        params: { query: { windowDays: Number(days) } },
      });
      if (!data) throw new Error(problem(error));
      return data;
    },
    [days],
    60_000,
  );
  if (!report.data) return <NotYet title="Operations report" error={report.error} />;
  const r = report.data;
  const stages = Object.entries(r.ordersByStage);
  const backlog = stages.filter(([s]) => !['shipped', 'delivered', 'completed', 'cancelled'].includes(s));
  const sla = [
    ...r.openExceptions.map((e) => ({ name: e.type, open: e.open, breached: e.slaBreached })),
    ...r.pendingApprovals.map((a) => ({ name: `${a.kind} approval`, open: a.pending, breached: a.slaBreached })),
  ];
  const returns = r.returnRateBySku.filter((x) => x.rate !== null).slice(0, 10);
  const f = r.fulfilmentHours;
  return (
    <main>
      <h1>Operations report</h1>
      <label for="report-window">Window</label>
      <select
        id="report-window"
        value={days}
        onChange={(e) => route(`/console/reports?days=${(e.target as HTMLSelectElement).value}`)}
      >
        {WINDOWS.map((w) => (
          <option key={w} value={w}>
            last {w} days
          </option>
        ))}
      </select>
      <p>
        Fulfilment (placed to first parcel shipped): p50 {f.p50 ?? '–'} h, p90 {f.p90 ?? '–'} h over {f.orders} orders ·{' '}
        <strong class={r.lateOrders.count ? 'late' : ''}>
          {r.lateOrders.count} open orders older than {r.lateOrders.promiseHours} h
        </strong>
        {r.lateOrders.oldestPlacedAt && <> (oldest placed {when(r.lateOrders.oldestPlacedAt)})</>}
      </p>
      <div class="charts">
        <ChartFigure
          title="Orders by stage"
          summary={stages.map(([s, n]) => `${s} ${n}`).join(', ') || 'no orders'}
          kind="bar"
          labels={stages.map(([s]) => s)}
          series={[{ label: 'Orders', values: stages.map(([, n]) => n) }]}
        />
        <ChartFigure
          title="Fulfilment hours by day"
          summary={`p50 ${f.p50 ?? 'none'} h and p90 ${f.p90 ?? 'none'} h over the window`}
          kind="line"
          labels={r.fulfilmentByDay.map((d) => d.day)}
          series={[
            { label: 'p50 hours', values: r.fulfilmentByDay.map((d) => d.p50) },
            { label: 'p90 hours', values: r.fulfilmentByDay.map((d) => d.p90) },
          ]}
          unit=" h"
        />
        <ChartFigure
          title="Open work and SLA breaches"
          summary={sla.map((x) => `${x.name}: ${x.open} open, ${x.breached} breached`).join('; ') || 'nothing open'}
          kind="bar"
          labels={sla.map((x) => x.name)}
          series={[
            { label: 'Open', values: sla.map((x) => x.open) },
            { label: 'SLA breached', values: sla.map((x) => x.breached) },
          ]}
        />
        <ChartFigure
          title="Return rate by SKU"
          summary={returns.map((x) => `${x.sku} ${Math.round((x.rate ?? 0) * 100)} %`).join(', ') || 'no returns'}
          kind="bar"
          horizontal
          labels={returns.map((x) => x.sku)}
          series={[{ label: 'Returned %', values: returns.map((x) => Math.round((x.rate ?? 0) * 1000) / 10) }]}
          unit=" %"
        />
      </div>
      <h2>Backlog</h2>
      <p>{backlog.map(([s, n]) => `${n} ${s}`).join(' · ') || 'Nothing waiting.'}</p>
      <h2>Stockout risks</h2>
      {r.stockoutRisks.length === 0 && <p>No SKU runs out within the cover horizon.</p>}
      {r.stockoutRisks.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">SKU</th>
              <th scope="col">Warehouse</th>
              <th scope="col">Days of cover</th>
              <th scope="col">Seen by</th>
            </tr>
          </thead>
          <tbody>
            {r.stockoutRisks.map((x) => (
              <tr key={`${x.source}-${x.sku}-${x.warehouse ?? ''}`}>
                <td>
                  <a href={`/console/stock?sku=${encodeURIComponent(x.sku)}`}>{x.sku}</a>
                </td>
                <td>{x.warehouse ?? 'all'}</td>
                <td>{x.daysOfCover ?? 'none in stock'}</td>
                <td>{x.source === 'planner' ? `the planner (lead time ${x.leadTimeDays} d)` : 'recent demand'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Late suppliers</h2>
      {r.lateSuppliers.length === 0 && <p>No purchase order is overdue.</p>}
      <ul>
        {r.lateSuppliers.map((x) => (
          <li key={x.purchaseOrder}>
            {x.purchaseOrder} from {x.supplier}: {x.received} of {x.ordered} received, {x.daysLate} days late
          </li>
        ))}
      </ul>
    </main>
  );
}
