/**
 * Reservation as database functions, so that reserving an order is one statement: its locks are held for that
 * statement only, as a bare conditional UPDATE holds them (bench:hot-sku), and a sold-out SKU answers short in
 * one round trip. The allocation strategy lives here, once; holds and reships call it too (db/inventory.ts).
 *
 * - `order_demand(order)`: each order line with the units still to allocate.
 * - `channel_promise(pool, buffer units, buffer %, cap)`: what a channel may promise from a pool (the same
 *   numbers as `promise` in db/channels.ts, which the availability feeds compute in bulk; a test keeps them equal).
 * - `allocate_stock(lines, warehouses, budget)`: which warehouse ships which units (fewest shipments first).
 * - `hold_stock(order, hold, rows)`: writes an allocation's reservations and raises the quants' reserved.
 * - `channel_locations(channel)`, `order_promise(order, channel, locations)`: where a channel sells from, and
 *   per product what an order needs and what the channel may promise of it.
 * - `warehouse_stock(locations, products)`, `allocation_rows(allocation, lines)`: allocate_stock's input, and
 *   its output as hold_stock's rows.
 * - `order_ready(order, short)`: the reservation step's answer (units ready to ship, where, units short).
 * - `reserve_order(order, allow partial)`: the reservation step, under the order's and the stock's row locks.
 *
 * Scalar helpers are PL/pgSQL, not SQL: a session keeps PL/pgSQL plans, while a SQL function that cannot be
 * inlined is planned again at every call (0.35 ms of a 0.2 ms statement). The set-returning SQL functions are
 * inlined into their callers' (kept) plans.
 */
import type { Knex } from 'knex';

export async function up(k: Knex): Promise<void> {
  // Units still to allocate: ordered less cancelled less what live reservations cover (a kit's component
  // rows share one allocation, so its line units count once).
  await k.raw(`
    CREATE FUNCTION order_demand(p_order uuid)
    RETURNS TABLE (line_id int, line_no int, product_id int, kind text, remaining int)
    LANGUAGE sql STABLE AS $$
      SELECT l.id, l.line_no, l.product_id, p.kind::text,
             (l.quantity - l.quantity_cancelled - coalesce(a.units, 0))::int
        FROM sales_order_lines l
        JOIN products p ON p.id = l.product_id
        LEFT JOIN (
          SELECT d.order_line_id, sum(d.line_units) AS units
            FROM (SELECT DISTINCT r.allocation_id, r.order_line_id, r.line_units
                    FROM reservations r
                   WHERE r.order_id = p_order AND r.state <> 'released') d
           GROUP BY d.order_line_id
        ) a ON a.order_line_id = l.id
       WHERE l.order_id = p_order
    $$`);

  // The pool less its buffer (the larger of the units and the percentage, rounded up), capped, never below 0.
  await k.raw(`
    CREATE FUNCTION channel_promise(p_pool bigint, p_buffer_units int, p_buffer_pct numeric, p_cap int)
    RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
      free bigint := greatest(0, p_pool - greatest(p_buffer_units, ceil(greatest(0, p_pool) * p_buffer_pct / 100)::bigint));
    BEGIN
      RETURN CASE WHEN p_cap IS NULL THEN free ELSE least(free, p_cap) END;
    END $$`);

  /*
   * The allocation strategy: fewest shipments first, then warehouse priority.
   * 1. If one warehouse can ship everything, the highest-priority such warehouse ships it all.
   * 2. Otherwise, repeatedly take the warehouse that covers the most remaining units (ties go to priority)
   *    until the order is covered or no warehouse can add anything.
   * Greedy set cover is not always minimal, but it is predictable and explainable. A warehouse covers a line
   * by whole units of every component (a kit's parts), lines in order, sharing what it has between them; and
   * never beyond the budget (what the channel may still promise of each product over all warehouses).
   *
   * lines: [{lineId, remaining, components: [{productId, perUnit}]}]
   * warehouses: [{warehouseId, locationId, priority, available: {"<productId>": units}}]
   * budget: {"<productId>": units}, or null for no limit
   * returns {allocations: [{warehouseId, locationId, lines: [{lineId, units}]}], shortUnits}
   */
  await k.raw(`
    CREATE FUNCTION allocate_stock(p_lines jsonb, p_warehouses jsonb, p_budget jsonb)
    RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
      n_lines int := jsonb_array_length(p_lines);
      line_ids int[];
      remaining int[];
      comp_line int[] := '{}';  -- each component of each line: its line's index,
      comp_prod int[] := '{}';  -- its product's index,
      comp_per int[] := '{}';   -- and units per line unit
      prods int[];
      n_prods int;
      wh jsonb[];
      n_wh int;
      avail int[];              -- warehouse w, product p at (w - 1) * n_prods + p
      budget int[];             -- per product; null: no limit
      used bool[];
      wanted bigint;
      whole int;
      best int;
      best_total int;
      best_cov int[];
      cov int[];
      total int;
      allocations jsonb := '[]';
      w int;
      li int;
      ci int;
    BEGIN
      SELECT array_agg((l->>'lineId')::int ORDER BY o), array_agg((l->>'remaining')::int ORDER BY o)
        INTO line_ids, remaining
        FROM jsonb_array_elements(p_lines) WITH ORDINALITY AS x(l, o);
      SELECT coalesce(array_agg(DISTINCT (c->>'productId')::int), '{}') INTO prods
        FROM jsonb_array_elements(p_lines) l, jsonb_array_elements(l->'components') c;
      n_prods := coalesce(array_length(prods, 1), 0);
      FOR li IN 1..n_lines LOOP
        FOR ci IN 0..jsonb_array_length(p_lines->(li - 1)->'components') - 1 LOOP
          comp_line := comp_line || li;
          comp_prod := comp_prod || array_position(prods, (p_lines->(li - 1)->'components'->ci->>'productId')::int);
          comp_per := comp_per || (p_lines->(li - 1)->'components'->ci->>'perUnit')::int;
        END LOOP;
      END LOOP;
      SELECT coalesce(array_agg(x ORDER BY (x->>'priority')::int, (x->>'warehouseId')::int), '{}') INTO wh
        FROM jsonb_array_elements(p_warehouses) x;
      n_wh := coalesce(array_length(wh, 1), 0);
      avail := array_fill(0, ARRAY[greatest(n_wh * n_prods, 1)]);
      used := array_fill(false, ARRAY[greatest(n_wh, 1)]);
      budget := array_fill(NULL::int, ARRAY[greatest(n_prods, 1)]);
      FOR w IN 1..n_wh LOOP
        FOR ci IN 1..n_prods LOOP
          avail[(w - 1) * n_prods + ci] := greatest(0, coalesce((wh[w]->'available'->>prods[ci]::text)::int, 0));
        END LOOP;
      END LOOP;
      IF p_budget IS NOT NULL THEN
        FOR ci IN 1..n_prods LOOP
          -- A product the budget does not name has no limit, as with no budget at all.
          IF p_budget->(prods[ci]::text) IS NOT NULL THEN
            budget[ci] := least((p_budget->>prods[ci]::text)::bigint, 2147483647);
          END IF;
        END LOOP;
      END IF;

      wanted := (SELECT coalesce(sum(r), 0) FROM unnest(remaining) r);
      FOR w IN 1..n_wh LOOP
        cov := allocation_coverage(remaining, comp_line, comp_prod, comp_per, avail[(w - 1) * n_prods + 1 : w * n_prods], budget);
        IF (SELECT coalesce(sum(u), 0) FROM unnest(cov) u) = wanted THEN whole := w; EXIT; END IF;
      END LOOP;

      LOOP
        best := NULL;
        best_total := 0;
        FOR w IN 1..n_wh LOOP
          CONTINUE WHEN used[w] OR (whole IS NOT NULL AND w <> whole);
          cov := allocation_coverage(remaining, comp_line, comp_prod, comp_per, avail[(w - 1) * n_prods + 1 : w * n_prods], budget);
          total := (SELECT coalesce(sum(u), 0) FROM unnest(cov) u);
          IF total > best_total THEN best := w; best_total := total; best_cov := cov; END IF;
        END LOOP;
        EXIT WHEN best IS NULL;
        used[best] := true;
        allocations := allocations || jsonb_build_array(jsonb_build_object(
          'warehouseId', (wh[best]->>'warehouseId')::int,
          'locationId', (wh[best]->>'locationId')::int,
          'lines', (SELECT jsonb_agg(jsonb_build_object('lineId', line_ids[i], 'units', best_cov[i]) ORDER BY i)
                      FROM generate_subscripts(best_cov, 1) i WHERE best_cov[i] > 0)));
        FOR li IN 1..n_lines LOOP
          remaining[li] := remaining[li] - best_cov[li];
        END LOOP;
        FOR ci IN 1..coalesce(array_length(comp_line, 1), 0) LOOP
          budget[comp_prod[ci]] := budget[comp_prod[ci]] - best_cov[comp_line[ci]] * comp_per[ci];
        END LOOP;
      END LOOP;
      RETURN jsonb_build_object('allocations', allocations,
                                'shortUnits', (SELECT coalesce(sum(r), 0) FROM unnest(remaining) r));
    END $$`);

  // How many units of each line one warehouse can cover (stock: what it has of each product, by index).
  await k.raw(`
    CREATE FUNCTION allocation_coverage(remaining int[], comp_line int[], comp_prod int[], comp_per int[],
                                        stock int[], budget int[])
    RETURNS int[] LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
      lft int[] := stock;
      covered int[] := array_fill(0, ARRAY[greatest(coalesce(array_length(remaining, 1), 0), 1)]);
      units int;
      li int;
      ci int;
      n_comp int := coalesce(array_length(comp_line, 1), 0);
    BEGIN
      FOR ci IN 1..coalesce(array_length(stock, 1), 0) LOOP
        lft[ci] := least(stock[ci], coalesce(budget[ci], stock[ci]));
      END LOOP;
      FOR li IN 1..coalesce(array_length(remaining, 1), 0) LOOP
        CONTINUE WHEN remaining[li] <= 0;
        units := remaining[li];
        FOR ci IN 1..n_comp LOOP
          IF comp_line[ci] = li THEN units := least(units, lft[comp_prod[ci]] / comp_per[ci]); END IF;
        END LOOP;
        CONTINUE WHEN units <= 0;
        FOR ci IN 1..n_comp LOOP
          IF comp_line[ci] = li THEN lft[comp_prod[ci]] := lft[comp_prod[ci]] - units * comp_per[ci]; END IF;
        END LOOP;
        covered[li] := units;
      END LOOP;
      RETURN covered;
    END $$`);

  // Writes an allocation's reservations, then raises the quants' reserved, in quant order and last, so a hot
  // quant is locked from there to the commit only. Conditional, as the CHECK constraints are: never oversold.
  // rows: [{line_id, warehouse_id, location_id, product_id, quantity, line_units, allocation_id}]
  await k.raw(`
    CREATE FUNCTION hold_stock(p_order uuid, p_hold uuid, p_rows jsonb)
    RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      r record;
    BEGIN
      INSERT INTO reservations
             (order_id, order_line_id, hold_id, hold_line_id, warehouse_id, location_id, product_id,
              quantity, line_units, allocation_id)
      SELECT p_order, CASE WHEN p_order IS NOT NULL THEN x.line_id END,
             p_hold, CASE WHEN p_hold IS NOT NULL THEN x.line_id END,
             x.warehouse_id, x.location_id, x.product_id, x.quantity, x.line_units, x.allocation_id
        FROM jsonb_to_recordset(p_rows) AS x(line_id int, warehouse_id int, location_id int, product_id int,
                                              quantity int, line_units int, allocation_id uuid);
      FOR r IN
        SELECT x.location_id, x.product_id, sum(x.quantity)::int AS quantity
          FROM jsonb_to_recordset(p_rows) AS x(location_id int, product_id int, quantity int)
         GROUP BY x.location_id, x.product_id
         ORDER BY x.location_id, x.product_id
      LOOP
        UPDATE quants q SET reserved = q.reserved + r.quantity
         WHERE q.location_id = r.location_id AND q.product_id = r.product_id
           AND q.on_hand - q.reserved >= r.quantity;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'not enough stock of product % at location % to reserve %',
            r.product_id, r.location_id, r.quantity USING ERRCODE = 'check_violation';
        END IF;
      END LOOP;
    END $$`);

  // What the order has reserved and not yet on a shipment (units, warehouses), with its short units.
  await k.raw(`
    CREATE FUNCTION order_ready(p_order uuid, p_short int)
    RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
    BEGIN
      RETURN (
        SELECT jsonb_build_object('readyToShip', coalesce(sum(a.line_units), 0)::int,
                                  'shortUnits', p_short,
                                  'warehouses', coalesce(jsonb_agg(DISTINCT a.code), '[]'))
          FROM (SELECT DISTINCT r.allocation_id, r.line_units, w.code COLLATE "C" AS code
                  FROM reservations r JOIN warehouses w ON w.id = r.warehouse_id
                 WHERE r.order_id = p_order AND r.state = 'active' AND r.shipment_id IS NULL) a);
    END $$`);

  // The stock locations of the warehouses a channel sells from (all of them when it names none).
  await k.raw(`
    CREATE FUNCTION channel_locations(p_channel int)
    RETURNS int[] LANGUAGE plpgsql STABLE AS $$
    BEGIN
      RETURN (
        SELECT coalesce(array_agg(l.id ORDER BY l.id), '{}')
          FROM warehouses w JOIN locations l ON l.warehouse_id = w.id AND l.type = 'stock'
         WHERE NOT EXISTS (SELECT 1 FROM channel_warehouses cw WHERE cw.channel_id = p_channel)
            OR w.id IN (SELECT cw.warehouse_id FROM channel_warehouses cw WHERE cw.channel_id = p_channel));
    END $$`);

  // Per product the order still needs (a kit line needs its parts): the units, and what its channel may promise
  // of that product from the pool of these locations as committed (or as locked, when the caller locked them).
  await k.raw(`
    CREATE FUNCTION order_promise(p_order uuid, p_channel int, p_locations int[])
    RETURNS TABLE (product_id int, units bigint, promise bigint) LANGUAGE sql STABLE AS $$
      SELECT n.product_id, n.units,
             channel_promise((SELECT coalesce(sum(greatest(q.on_hand - q.reserved, 0)), 0)::bigint
                                FROM quants q
                               WHERE q.product_id = n.product_id AND q.location_id = ANY (p_locations)),
                             c.buffer_units, c.buffer_pct, c.cap)
        FROM (SELECT coalesce(k.component_product_id, d.product_id) AS product_id,
                     sum(d.remaining::bigint * coalesce(k.quantity, 1))::bigint AS units
                FROM order_demand(p_order) d
                LEFT JOIN kit_components k ON d.kind = 'kit' AND k.kit_product_id = d.product_id
               WHERE d.remaining > 0 AND (d.kind <> 'kit' OR k.kit_product_id IS NOT NULL)
               GROUP BY 1) n
        JOIN channels c ON c.id = p_channel
    $$`);

  // What each warehouse of these locations has of these products (on hand − reserved), as allocate_stock reads it.
  await k.raw(`
    CREATE FUNCTION warehouse_stock(p_locations int[], p_products int[])
    RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
    BEGIN
      RETURN (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                 'warehouseId', w.id, 'locationId', l.id, 'priority', w.priority,
                 'available', (SELECT coalesce(jsonb_object_agg(q.product_id, greatest(q.on_hand - q.reserved, 0)), '{}')
                                 FROM quants q WHERE q.location_id = l.id AND q.product_id = ANY (p_products)))), '[]')
          FROM warehouses w JOIN locations l ON l.warehouse_id = w.id AND l.type = 'stock'
         WHERE l.id = ANY (p_locations));
    END $$`);

  // An allocation as reservation rows for hold_stock: one per component, a line's rows sharing an allocation id.
  await k.raw(`
    CREATE FUNCTION allocation_rows(p_allocation jsonb, p_lines jsonb)
    RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      RETURN (
        WITH al AS MATERIALIZED (
          SELECT (a->>'warehouseId')::int AS warehouse_id, (a->>'locationId')::int AS location_id,
                 (x->>'lineId')::int AS line_id, (x->>'units')::int AS units, gen_random_uuid() AS allocation_id
            FROM jsonb_array_elements(p_allocation->'allocations') a, jsonb_array_elements(a->'lines') x
        )
        SELECT jsonb_agg(jsonb_build_object(
                 'line_id', al.line_id, 'warehouse_id', al.warehouse_id, 'location_id', al.location_id,
                 'product_id', (c->>'productId')::int, 'quantity', al.units * (c->>'perUnit')::int,
                 'line_units', al.units, 'allocation_id', al.allocation_id))
          FROM al
          JOIN jsonb_array_elements(p_lines) l ON (l->>'lineId')::int = al.line_id,
               jsonb_array_elements(l->'components') c);
    END $$`);

  /*
   * Reserves what is still unallocated on the order (all or nothing unless partial is allowed). Answers
   * order_ready, or {"takeOverHold": true} when the order claimed a checkout hold (db/holds.ts takes it over
   * first, then calls this again in the same transaction), or null when there is no such order.
   *
   * The hot row is held as briefly as a bare conditional UPDATE holds it:
   * 1. Sold out, by what is committed: answered without a lock.
   * 2. Under the order's row lock, for a channel that holds nothing back (its promise is its whole pool, which
   *    no allocation can exceed): allocated from the stock as committed, then written by hold_stock, whose
   *    conditional UPDATEs come last. If the units went in between, that write is undone and step 3 runs.
   * 3. Under the row locks of every quant the channel's promise counts (in quant order, as every reservation
   *    takes them): the promise and the allocation read and written under those locks.
   */
  await k.raw(`
    CREATE FUNCTION reserve_order(p_order uuid, p_allow_partial boolean)
    RETURNS jsonb LANGUAGE plpgsql AS $$
    DECLARE
      o record;
      ch record;
      v_fresh boolean := pg_current_xact_id_if_assigned() IS NULL; -- nothing written before this call
      v_locations int[];
      v_lines jsonb;
      v_products int[];
      v_remaining int;
      v_budget jsonb;
      v_beyond boolean;
      v_allocation jsonb;
      v_short int;
    BEGIN
      SELECT so.status, so.channel_id, so.hold_id INTO o FROM sales_orders so WHERE so.id = p_order;
      IF NOT FOUND THEN RETURN NULL; END IF;
      v_locations := channel_locations(o.channel_id);
      -- 1. Nothing is written, so the answer waits for no disk, and it never queues behind the reservations
      -- holding the hot row: no lock could make the missing units appear. (Not for an order that claimed a
      -- hold: the hold's reservations hold its units.)
      IF NOT p_allow_partial AND o.status <> 'cancelled' AND o.hold_id IS NULL
         AND (SELECT bool_or(n.units > n.promise) FROM order_promise(p_order, o.channel_id, v_locations) n) THEN
        RETURN order_ready(p_order, (SELECT sum(d.remaining)::int FROM order_demand(p_order) d WHERE d.remaining > 0));
      END IF;

      SELECT so.status, so.channel_id, so.hold_id INTO o FROM sales_orders so WHERE so.id = p_order FOR UPDATE;
      IF o.status = 'cancelled' THEN
        RETURN jsonb_build_object('readyToShip', 0, 'shortUnits', 0, 'warehouses', '[]'::jsonb);
      END IF;
      IF o.hold_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM holds h WHERE h.id = o.hold_id AND h.status = 'active' AND h.order_id = p_order
      ) THEN
        RETURN jsonb_build_object('takeOverHold', true);
      END IF;
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'lineId', d.line_id, 'remaining', d.remaining,
               'components', CASE WHEN d.kind = 'kit'
                 THEN coalesce((SELECT jsonb_agg(jsonb_build_object('productId', k.component_product_id,
                                                                    'perUnit', k.quantity)
                                                 ORDER BY k.component_product_id)
                                  FROM kit_components k WHERE k.kit_product_id = d.product_id), '[]')
                 ELSE jsonb_build_array(jsonb_build_object('productId', d.product_id, 'perUnit', 1)) END)
             ORDER BY d.line_no), '[]'),
             coalesce(sum(d.remaining), 0)
        INTO v_lines, v_remaining
        FROM order_demand(p_order) d WHERE d.remaining > 0;
      IF v_remaining = 0 THEN RETURN order_ready(p_order, 0); END IF;
      SELECT coalesce(array_agg(DISTINCT (c->>'productId')::int), '{}') INTO v_products
        FROM jsonb_array_elements(v_lines) l, jsonb_array_elements(l->'components') c;

      -- 2. A channel that holds nothing back.
      SELECT c.buffer_units, c.buffer_pct, c.cap INTO ch FROM channels c WHERE c.id = o.channel_id;
      IF ch.buffer_units = 0 AND ch.buffer_pct = 0 AND ch.cap IS NULL THEN
        v_allocation := allocate_stock(v_lines, warehouse_stock(v_locations, v_products), NULL);
        v_short := (v_allocation->>'shortUnits')::int;
        IF v_short = 0 OR p_allow_partial THEN
          BEGIN
            IF jsonb_array_length(v_allocation->'allocations') > 0 THEN
              PERFORM hold_stock(p_order, NULL, allocation_rows(v_allocation, v_lines));
            END IF;
            RETURN order_ready(p_order, v_short);
          EXCEPTION WHEN check_violation THEN
            NULL; -- the units went since they were read: under the locks, below
          END;
        END IF;
      END IF;

      -- 3. Under the locks of the channel's whole pool.
      PERFORM 1 FROM quants q
        WHERE q.location_id = ANY (v_locations) AND q.product_id = ANY (v_products)
        ORDER BY q.location_id, q.product_id
          FOR UPDATE;
      SELECT jsonb_object_agg(n.product_id, n.promise), bool_or(n.units > n.promise)
        INTO v_budget, v_beyond
        FROM order_promise(p_order, o.channel_id, v_locations) n;
      IF NOT p_allow_partial AND v_beyond THEN
        -- Nothing written but row locks, which a crash forgets anyway: this commit need not wait for the disk.
        -- Only when this call wrote first in its transaction (v_fresh) and writes nothing: a caller must not
        -- write after it in the same transaction (reserveStock calls it on its own, or last).
        IF v_fresh THEN PERFORM set_config('synchronous_commit', 'off', true); END IF;
        RETURN order_ready(p_order, v_remaining);
      END IF;
      v_allocation := allocate_stock(v_lines, warehouse_stock(v_locations, v_products), v_budget);
      v_short := (v_allocation->>'shortUnits')::int;
      IF v_short > 0 AND NOT p_allow_partial THEN RETURN order_ready(p_order, v_remaining); END IF;
      IF jsonb_array_length(v_allocation->'allocations') > 0 THEN
        PERFORM hold_stock(p_order, NULL, allocation_rows(v_allocation, v_lines));
      END IF;
      RETURN order_ready(p_order, v_short);
    END $$`);
}

export async function down(k: Knex): Promise<void> {
  await k.raw(`DROP FUNCTION IF EXISTS reserve_order(uuid, boolean)`);
  await k.raw(`DROP FUNCTION IF EXISTS allocation_rows(jsonb, jsonb)`);
  await k.raw(`DROP FUNCTION IF EXISTS warehouse_stock(int[], int[])`);
  await k.raw(`DROP FUNCTION IF EXISTS order_promise(uuid, int, int[])`);
  await k.raw(`DROP FUNCTION IF EXISTS channel_locations(int)`);
  await k.raw(`DROP FUNCTION IF EXISTS order_ready(uuid, int)`);
  await k.raw(`DROP FUNCTION IF EXISTS hold_stock(uuid, uuid, jsonb)`);
  await k.raw(`DROP FUNCTION IF EXISTS allocation_coverage(int[], int[], int[], int[], int[], int[])`);
  await k.raw(`DROP FUNCTION IF EXISTS allocate_stock(jsonb, jsonb, jsonb)`);
  await k.raw(`DROP FUNCTION IF EXISTS channel_promise(bigint, int, numeric, int)`);
  await k.raw(`DROP FUNCTION IF EXISTS order_demand(uuid)`);
}
