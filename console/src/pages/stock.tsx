/** Stock of one SKU: per warehouse, what each channel may promise, and the moves behind the numbers. */
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, problem } from '../api';
import { money, when } from '../format';
import { usePolled } from '../poll';

interface Position {
  warehouses: { warehouse: string; onHand: number; reserved: number; available: number; incoming: number }[];
  total: { onHand: number; reserved: number; available: number; incoming: number };
}
interface Move {
  at: string;
  from: string;
  to: string;
  quantity: number;
  unitCost: number;
  cause: { type: string; id: string };
}

export function Stock() {
  const { query, route } = useLocation();
  const [sku, setSku] = useState(query.sku ?? '');
  const shown = query.sku;
  const view = usePolled(async () => {
    if (!shown) return undefined;
    const path = { params: { path: { sku: shown } } };
    const [pos, moves, channels] = await Promise.all([
      api.GET('/v1/inventory/{sku}', path),
      api.GET('/v1/inventory/{sku}/moves', { params: { path: { sku: shown }, query: { limit: 50 } } }),
      api.GET('/v1/channels'),
    ]);
    if (pos.error) throw new Error(problem(pos.error));
    const codes = ((channels.data ?? { channels: [] }) as unknown as { channels: { code: string }[] }).channels.map(
      (c) => c.code,
    );
    const promise = await Promise.all(
      codes.map(async (channel) => {
        const r = await api.GET('/v1/availability', { params: { query: { channel, sku: [shown] } } });
        const item = (r.data as unknown as { items?: { available: number }[] } | undefined)?.items?.[0];
        return { channel, available: item?.available ?? 0 };
      }),
    );
    return {
      position: pos.data as unknown as Position,
      moves: (moves.data as unknown as { moves: Move[] }).moves,
      promise,
    };
  }, [shown]);
  const v = view.data;
  return (
    <main>
      <h1>Stock</h1>
      <form
        class="filters"
        onSubmit={(e) => (e.preventDefault(), route(`/console/stock?sku=${encodeURIComponent(sku.trim())}`))}
      >
        <div>
          <label for="sku">SKU</label>
          <input id="sku" value={sku} onInput={(e) => setSku((e.target as HTMLInputElement).value)} required />
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
          <h2>Per warehouse</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Warehouse</th>
                <th scope="col">On hand</th>
                <th scope="col">Reserved</th>
                <th scope="col">Available</th>
                <th scope="col">Incoming</th>
              </tr>
            </thead>
            <tbody>
              {[...v.position.warehouses, { warehouse: 'All', ...v.position.total }].map((w) => (
                <tr key={w.warehouse}>
                  <td>{w.warehouse}</td>
                  <td>{w.onHand}</td>
                  <td>{w.reserved}</td>
                  <td>{w.available}</td>
                  <td>{w.incoming}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>What each channel may promise</h2>
          <ul>
            {v.promise.map((p) => (
              <li key={p.channel}>
                {p.channel}: {p.available}
              </li>
            ))}
          </ul>
          <h2>Moves, newest first</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Units</th>
                <th scope="col">Unit cost</th>
                <th scope="col">Cause</th>
              </tr>
            </thead>
            <tbody>
              {v.moves.map((m, i) => (
                <tr key={i}>
                  <td>{when(m.at)}</td>
                  <td>{m.from}</td>
                  <td>{m.to}</td>
                  <td>{m.quantity}</td>
                  <td>{money(m.unitCost)}</td>
                  <td>
                    {m.cause.type} {m.cause.id.slice(0, 8)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </main>
  );
}
