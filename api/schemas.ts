/** Request and response schemas. Validation happens here, at the edge; workflows receive plain typed objects. */
import { CHANNEL_KINDS } from '../contracts/channels';
import { z } from 'zod';
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { ROLES } from '../contracts/roles';
import { EVENT_FILTERS, EVENT_TYPES } from '../contracts/events';
import { ALLOCATION_METHODS, LANDED_COST_KINDS } from '../db/migrations/036_landed_costs';

extendZodWithOpenApi(z);

const text = (max: number) => z.string().trim().min(1).max(max);
/** One line of text (names, address lines): what goes on a label or into a CSV cell has no tab or line break. */
const line = (max: number) => text(max).regex(/^[^\t\n\r\u2028\u2029]*$/, 'must be one line: no tab or line break');
const optionalLine = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .regex(/^[^\t\n\r\u2028\u2029]*$/, 'must be one line: no tab or line break')
    .optional();
export const Sku = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a SKU is 1-64 letters, digits, dot, dash or underscore')
  .openapi({ example: 'TSHIRT-BLK-M' });
export const Quantity = z.number().int().positive().max(1_000_000);
export const Money = z
  .number()
  .int()
  .nonnegative()
  .max(100_000_000_000)
  .openapi({ description: 'integer minor units (cents)' });
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR');
export const Uuid = z.string().uuid();
/** Path ids that are not UUIDs can never exist: they answer 404 without a query. */
export const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
/** A moment in an answer: a Date serializes to its ISO string. */
const Timestamp = z.union([z.string(), z.date()]).openapi({ type: 'string', format: 'date-time' });
/** Where a process stands: live from its query, or, when the live view did not answer in time, the recorded status. */
export const ProcessView = z
  .object({
    stage: z.string(),
    waitingFor: z.string().nullable().openapi({ description: 'what the process waits for; null: nothing' }),
    timeline: z.array(z.object({ step: z.string(), at: Timestamp })),
    live: z.boolean().openapi({ description: 'false: the live view did not answer; stage is the recorded status' }),
    note: z.string().optional().openapi({ description: 'why the live view is missing (when live is false)' }),
  })
  .openapi('ProcessView');

export const Health = z.object({ status: z.literal('ok') }).openapi('Health');
export const Readiness = z
  .object({
    status: z.literal('ready'),
    checks: z.object({
      postgres: z.string().openapi({ description: 'ok, or unreachable' }),
      temporal: z.string().openapi({ description: 'ok, or unreachable' }),
      workers: z.string().openapi({ description: 'how many workers poll the task queue (none: processes wait)' }),
    }),
  })
  .openapi('Readiness');

export const Address = z
  .object({
    name: line(200),
    line1: line(200),
    line2: optionalLine(200),
    city: line(100),
    postalCode: line(20),
    country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 code such as DE'),
    region: optionalLine(50),
  })
  .openapi('Address');

export const PlaceOrder = z
  .object({
    channel: z.string().regex(/^[a-z0-9-]{1,32}$/, 'a channel code'),
    externalRef: z
      .string()
      .regex(
        /^[A-Za-z0-9._:-]{1,64}$/,
        'the storefront order reference: 1-64 letters, digits, dot, dash, colon or underscore',
      ),
    currency: Currency,
    customer: z.object({ email: z.string().email().max(254), name: line(200) }),
    shippingAddress: Address,
    lines: z
      .array(z.object({ sku: Sku, quantity: Quantity, unitPrice: Money }))
      .min(1)
      .max(200),
    shippingPrice: Money.optional(),
    payment: z.object({ method: text(40), token: text(200) }),
    backorderPolicy: z.enum(['ship_available', 'wait', 'cancel']).optional(),
    holdId: Uuid.optional().openapi({
      description: "a checkout hold of the same channel: its units become the order's reservation",
    }),
  })
  .openapi('PlaceOrder');

export const OrderCreated = z
  .object({ orderId: Uuid, workflowId: z.string(), status: z.string() })
  .openapi('OrderCreated');
export const OrderParams = z.object({ orderId: z.string().max(64) });
export const CancelOrder = z.object({ reason: text(500) });
export const ReviewDecision = z.object({
  decision: z.enum(['release', 'cancel']),
  note: z.string().max(1000).optional(),
});
export const OrderCancellation = z
  .object({ orderId: z.string(), status: z.literal('cancelling') })
  .openapi('OrderCancellation');
export const OrderReviewDecision = z
  .object({ orderId: z.string(), decision: z.enum(['release', 'cancel']) })
  .openapi('OrderReviewDecision');

export const ShipmentEventBody = z
  .object({
    type: z.enum(['picked', 'packed', 'shipped', 'delivered', 'failed', 'stopped']), // stopped: the parcel was stopped after a cancel request
    carrier: z.string().trim().max(50).optional(),
    trackingNumber: z.string().trim().max(100).optional(),
    note: z.string().max(1000).optional(),
    // With picked: what was actually picked per SKU when it is less than the shipment asks (a short pick).
    lines: z
      .array(z.object({ sku: Sku, quantity: z.number().int().nonnegative().max(10_000_000) }))
      .min(1)
      .max(500)
      .optional(),
  })
  .refine((e) => !e.lines || e.type === 'picked', { message: 'lines go with a picked report only', path: ['lines'] })
  .openapi('ShipmentEvent');

export const ShipmentEventResult = z
  .object({
    shipmentId: z.string(),
    accepted: z.boolean(),
    applied: z.boolean(),
    queued: z.boolean().optional().openapi({ description: 'true (with 202): the process applies it when it is free' }),
    reason: z.string().optional(),
    shipmentStatus: z
      .string()
      .openapi({ description: 'after the report; shipped_after_cancel for a cancelled parcel' }),
    orderStage: z.string(),
    workflowId: z.string(),
  })
  .openapi('ShipmentEventResult');

export const ShipmentListQuery = z.object({
  status: z
    .string()
    .regex(
      /^(pending|picked|packed|shipped|delivered|failed|cancelled)(,(pending|picked|packed|shipped|delivered|failed|cancelled))*$/,
    )
    .default('pending,picked,packed,shipped'),
  warehouse: z.string().max(32).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const CreateKey = z.object({ name: line(100), roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length) });
export const KeyCreated = z.object({ id: Uuid, key: z.string(), name: z.string(), roles: z.array(z.string()) });
export const KeyRevoked = z.object({ id: z.string(), revoked: z.boolean() }).openapi('KeyRevoked');
export const SessionEnded = z
  .object({ ended: z.boolean().openapi({ description: 'false when the session had already ended' }) })
  .openapi('SessionEnded');

export const ProductInput = z
  .object({
    sku: Sku,
    name: line(200),
    unit: z.string().trim().min(1).max(20).optional(),
    barcode: z.string().trim().max(64).optional(),
    cost: Money,
    price: Money.optional(),
    kind: z.enum(['stocked', 'kit']).optional(),
    category: z.string().trim().min(1).max(50).optional(),
    weightGrams: z
      .number()
      .int()
      .positive()
      .max(10_000_000)
      .optional()
      .openapi({ description: 'Shipping weight of one unit; landed costs can be allocated by it' }),
    components: z
      .array(z.object({ sku: Sku, quantity: Quantity }))
      .max(50)
      .optional(),
  })
  .openapi('ProductInput');
export const UpsertProducts = z.object({ products: z.array(ProductInput).min(1).max(1000) });
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(64).optional(),
});
/** What a bulk create-or-update wrote (all rows, or none). */
export const UpsertResult = z.object({ written: z.number().int() }).openapi('UpsertResult');
export const Product = z
  .object({
    sku: z.string(),
    name: z.string(),
    unit: z.string(),
    barcode: z.string().optional(),
    cost: z.number().int(),
    price: z.number().int().optional(),
    kind: z.enum(['stocked', 'kit']),
    category: z.string().optional(),
    active: z.boolean(),
    components: z
      .array(z.object({ sku: z.string(), quantity: z.number().int() }))
      .optional()
      .openapi({ description: "a kit's components; absent for a stocked product" }),
  })
  .openapi('Product');
export const ProductList = z
  .object({
    products: z.array(Product),
    nextCursor: z.string().nullable().openapi({ description: 'pass as `cursor` for the next page; null on the last' }),
  })
  .openapi('ProductList');
export const WarehouseList = z
  .object({
    warehouses: z.array(
      z.object({
        code: z.string(),
        name: z.string(),
        priority: z.number().int().openapi({ description: 'lower ships first' }),
        country: z.string().optional(),
        locations: z.array(z.object({ code: z.string(), name: z.string(), type: z.string() })),
      }),
    ),
  })
  .openapi('WarehouseList');

export const StockMoveBody = z
  .object({
    warehouse: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
    sku: Sku,
    quantity: z.number().int().positive().max(10_000_000),
    from: z.enum(['stock', 'quarantine', 'repair', 'returns']),
    to: z.enum(['stock', 'quarantine', 'repair', 'scrap', 'supplier']),
    reason: text(500),
  })
  .refine((b) => b.from !== b.to, { message: 'from and to must differ', path: ['to'] });

export const Adjustment = z.object({
  warehouse: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  sku: Sku,
  countedQuantity: z.number().int().nonnegative().max(10_000_000),
  reason: text(500),
});

const StockFigures = {
  onHand: z.number().int(),
  reserved: z.number().int(),
  available: z.number().int(),
  incoming: z.number().int().openapi({ description: 'on approved or sent purchase orders, not yet received' }),
};
export const StockPosition = z
  .object({
    sku: z.string(),
    warehouses: z.array(z.object({ warehouse: z.string(), ...StockFigures })),
    total: z.object(StockFigures),
  })
  .openapi('StockPosition');
export const StockMoveList = z
  .object({
    sku: z.string(),
    moves: z.array(
      z.object({
        at: Timestamp,
        from: z.string(),
        to: z.string(),
        quantity: z.number().int(),
        unitCost: z.number().int(),
        state: z.string(),
        cause: z.object({ type: z.string(), id: z.string() }),
      }),
    ),
    next: z.string().nullable(),
  })
  .openapi('StockMoveList');
/** What a change on the shelf did to orders: backorders nudged, orders that lost their reservation re-planned. */
const StockChangeEffects = {
  ordersNotified: z.number().int().openapi({ description: 'backordered orders told stock arrived' }),
  ordersReplanned: z.array(z.object({ orderId: z.string(), externalRef: z.string(), units: z.number().int() })),
  shortfallCaseId: z
    .string()
    .optional()
    .openapi({ description: 'the stock_shortfall case, when reserved units were touched' }),
};
export const StockAdjustment = z
  .object({
    adjustmentId: z.string(),
    warehouse: z.string(),
    sku: z.string(),
    previousQuantity: z.number().int(),
    countedQuantity: z.number().int(),
    difference: z.number().int(),
    ...StockChangeEffects,
  })
  .openapi('StockAdjustment');
export const StockTransfer = z
  .object({
    moveId: z.string(),
    warehouse: z.string(),
    sku: z.string(),
    from: z.string(),
    to: z.string(),
    quantity: z.number().int(),
    ...StockChangeEffects,
  })
  .openapi('StockTransfer');

export const CarrierWebhook = z
  .object({
    eventId: text(100),
    sentAt: z.string().datetime({ offset: true }),
    type: z.enum(['picked', 'packed', 'shipped', 'delivered', 'failed']),
    shipmentId: Uuid.optional(),
    trackingNumber: z.string().max(100).optional(),
    carrier: z.string().max(50).optional(),
    note: z.string().max(1000).optional(),
  })
  .refine((b) => b.shipmentId || b.trackingNumber, 'shipmentId or trackingNumber is required');

export const MarketplaceWebhook = z.object({
  eventId: text(100),
  sentAt: z.string().datetime({ offset: true }),
  type: z.enum(['order.placed', 'order.cancelled']),
  orderId: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, "the marketplace's order id"),
});

const ProviderEvent = {
  eventId: text(100),
  sentAt: z.string().datetime({ offset: true }),
};
const ProviderRef = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "the provider's reference: letters, digits, _ and -");
export const PaymentWebhook = z
  .discriminatedUnion('type', [
    z.object({ ...ProviderEvent, type: z.literal('review.approved'), orderId: Uuid }),
    z.object({ ...ProviderEvent, type: z.literal('review.rejected'), orderId: Uuid }),
    z.object({ ...ProviderEvent, type: z.literal('payout.paid'), payoutId: ProviderRef }),
    z.object({ ...ProviderEvent, type: z.literal('dispute.created'), disputeId: ProviderRef, captureRef: ProviderRef }),
    z.object({
      ...ProviderEvent,
      type: z.literal('dispute.closed'),
      disputeId: ProviderRef,
      outcome: z.enum(['won', 'lost']),
    }),
  ])
  .openapi('PaymentWebhook', {
    description:
      'review.*: a fraud review decided. payout.paid: a payout was made (imported and reconciled once). dispute.created: a chargeback (answered by finance before its deadline). dispute.closed: the provider decided a dispute under review.',
  });
export const WebhookReceipt = z
  .object({
    eventId: z.string(),
    duplicate: z.boolean().openapi({ description: 'true: this event id was applied before; nothing done again' }),
    applied: z.boolean().optional().openapi({ description: 'whether the process took it (absent on a duplicate)' }),
  })
  .openapi('WebhookReceipt');
export const WebhookAccepted = z.object({ eventId: z.string(), accepted: z.boolean() }).openapi('WebhookAccepted');

export const ReturnRequest = z
  .object({
    orderId: Uuid,
    lines: z
      .array(z.object({ sku: Sku, quantity: Quantity, reason: text(200) }))
      .min(1)
      .max(200),
    resolution: z.enum(['refund', 'replacement']),
    note: z.string().max(2000).optional(),
  })
  .openapi('ReturnRequest');
export const ReturnParams = z.object({ returnId: z.string().max(64) });
export const ReceiptBody = z.object({
  lines: z
    .array(z.object({ sku: Sku, quantity: Quantity }))
    .min(1)
    .max(200),
});
export const InspectionBody = z.object({
  lines: z
    .array(z.object({ sku: Sku, quantity: Quantity, condition: z.enum(['new', 'opened', 'damaged', 'defective']) }))
    .min(1)
    .max(200),
});
export const DecisionBody = z
  .object({
    decision: z.enum(['approve', 'reject', 'partial']),
    amount: Money.optional(),
    note: text(2000),
  })
  .refine((d) => d.decision !== 'partial' || (d.amount ?? 0) > 0, {
    message: 'a partial decision needs a positive amount',
    path: ['amount'],
  });
export const ApprovalsQuery = z.object({
  status: z.enum(['pending', 'approved', 'rejected', 'partial', 'withdrawn']).default('pending'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const ExceptionsQuery = z.object({
  status: z.enum(['open', 'resolved', 'closed']).default('open'),
  type: z.string().max(50).optional(),
  queue: z.string().max(50).optional(),
  slaBreached: z.enum(['true', 'false']).optional(),
  minAgeMinutes: z.coerce.number().int().nonnegative().max(10_000_000).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const ExceptionParams = z.object({ id: z.string().max(64) });
export const ExceptionResolutionBody = z.object({
  action: z.string().regex(/^[a-z_]{1,50}$/, 'an action name such as release or cancel'),
  note: text(2000),
  data: z.object({ address: Address.optional() }).optional(),
});

export const NewTicketBody = z.object({
  customerEmail: z.string().email().max(254),
  orderId: Uuid.optional(),
  subject: text(300),
  body: text(10000),
});
export const TicketStatus = z.enum(['open', 'pending', 'solved', 'closed']);
/** A ticket as triaged: its category, queue and priority, and why (the triage explained). */
export const Ticket = z
  .object({
    ticketId: z.string(),
    customerEmail: z.string(),
    orderId: z.string().optional(),
    subject: z.string(),
    category: z.string(),
    queue: z.string(),
    priority: z.string().openapi({ description: 'low, normal, high or urgent' }),
    priorityPoints: z.number().int(),
    why: z.object({
      category: z.string(),
      order: z.string().openapi({ description: 'how the order was linked, or that none was found' }),
      priority: z.array(z.string()).openapi({ description: 'each priority rule that applied, with its points' }),
    }),
    suggestedAnswer: z.string().optional(),
    status: TicketStatus,
    assignee: z.string().optional(),
    createdAt: Timestamp,
  })
  .openapi('Ticket');
export const CustomerParams = z.object({ email: z.string().email().max(254) });
export const CustomerOverview = z
  .object({
    customer: z.object({ email: z.string(), name: z.string(), since: Timestamp }),
    orders: z.array(
      z.object({
        orderId: z.string(),
        externalRef: z.string(),
        channel: z.string(),
        stage: z.string(),
        total: z.number().int(),
        currency: z.string(),
        placedAt: Timestamp,
      }),
    ),
    shipments: z.array(
      z.object({
        shipmentId: z.string(),
        orderId: z.string(),
        warehouse: z.string(),
        status: z.string(),
        carrier: z.string().optional(),
        trackingNumber: z.string().optional(),
        shippedAt: Timestamp.optional(),
        deliveredAt: Timestamp.optional(),
      }),
    ),
    returns: z.array(
      z.object({
        returnId: z.string(),
        orderId: z.string(),
        rmaNumber: z.string().optional(),
        stage: z.string(),
        resolution: z.string(),
        refundAmount: z.number().int().optional(),
        requestedAt: Timestamp,
      }),
    ),
    refunds: z.array(
      z.object({
        orderId: z.string(),
        amount: z.number().int(),
        currency: z.string(),
        status: z.string(),
        returnId: z.string().optional(),
        at: Timestamp,
      }),
    ),
    creditNotes: z.array(
      z.object({
        creditNoteId: z.string(),
        number: z.string(),
        orderId: z.string(),
        returnId: z.string().optional(),
        shipmentId: z.string().optional(),
        total: z.number().int(),
        issuedAt: Timestamp,
      }),
    ),
    tickets: z.array(Ticket).openapi({ description: 'open and pending ones' }),
    exceptions: z.array(
      z.object({
        exceptionId: z.string(),
        type: z.string(),
        severity: z.string(),
        queue: z.string(),
        summary: z.string(),
        subjectType: z.string(),
        subjectId: z.string(),
        openedAt: Timestamp,
      }),
    ),
  })
  .openapi('CustomerOverview');

export const ReportQuery = z.object({
  windowDays: z.coerce.number().int().min(1).max(366).default(30),
  promiseHours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(48),
  coverDays: z.coerce.number().int().min(1).max(365).default(7),
});

// Purchasing (procure-to-pay)
const Code = z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'a code is 1-32 letters, digits, dot, dash or underscore');
const Days = z.number().int().min(0).max(3650);
export const UpsertSuppliers = z
  .object({
    suppliers: z
      .array(
        z.object({
          code: Code,
          name: line(200),
          currency: Currency,
          email: z.string().email().max(254).optional(),
          leadTimeDays: Days.optional(),
          paymentTermsDays: Days.optional(),
          active: z.boolean().optional(),
        }),
      )
      .min(1)
      .max(1000),
  })
  .openapi('UpsertSuppliers');
export const UpsertSupplierPrices = z
  .object({
    prices: z
      .array(
        z.object({
          supplier: Code,
          sku: Sku,
          unitPrice: Money,
          moq: Quantity.optional(),
          packSize: Quantity.optional(),
          leadTimeDays: Days.optional(),
        }),
      )
      .min(1)
      .max(5000),
  })
  .openapi('UpsertSupplierPrices');
export const UpsertReorderRules = z
  .object({
    rules: z
      .array(
        z
          .object({
            sku: Sku,
            warehouse: Code,
            method: z.enum(['reorder_point', 'min_max']),
            minQty: z.number().int().min(0).max(1_000_000).optional(),
            maxQty: z.number().int().min(0).max(1_000_000).optional(),
            safetyStock: z.number().int().min(0).max(1_000_000).optional(),
            serviceLevel: z.number().min(0.5).max(0.999).optional(),
            coverDays: Days.optional(),
          })
          .refine(
            (r) => r.method !== 'min_max' || (r.minQty !== undefined && r.maxQty !== undefined && r.maxQty >= r.minQty),
            { message: 'a min_max rule needs minQty and maxQty, with maxQty ≥ minQty', path: ['maxQty'] },
          ),
      )
      .min(1)
      .max(5000),
  })
  .openapi('UpsertReorderRules');
export const ReplenishmentRunBody = z.object({}).strict();
export const PurchaseOrderParams = z.object({ poId: z.string().max(64) });
export const PurchaseOrdersQuery = z
  .object({
    status: z
      .enum([
        'draft',
        'awaiting_approval',
        'approved',
        'rejected',
        'sent',
        'partially_received',
        'received',
        'closed',
        'cancelled',
      ])
      .optional(),
    supplier: Code.optional(),
    cursor: z.string().max(200).optional().openapi({ description: "the previous page's `next`" }),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .openapi('PurchaseOrdersQuery');
export const NewPurchaseOrder = z
  .object({
    supplier: Code,
    warehouse: Code,
    note: z.string().max(1000).optional(),
    lines: z
      .array(z.object({ sku: Sku, quantity: Quantity, unitPrice: Money.optional() }))
      .min(1)
      .max(200),
  })
  .openapi('NewPurchaseOrder');
export const PurchaseDecisionBody = z.object({ decision: z.enum(['approve', 'reject']), note: text(1000) });
export const PurchaseReceiptBody = z.object({
  warehouse: Code.optional(),
  lines: z
    .array(z.object({ sku: Sku, quantity: Quantity }))
    .min(1)
    .max(200),
});
export const VendorBillBody = z
  .object({
    supplierInvoiceRef: z
      .string()
      .regex(
        /^[A-Za-z0-9._:/-]{1,64}$/,
        'the supplier invoice number: 1-64 letters, digits, dot, dash, colon, slash or underscore',
      ),
    creditNoteFor: z
      .string()
      .regex(/^[A-Za-z0-9._:/-]{1,64}$/)
      .optional()
      .openapi({ description: 'makes this a supplier credit note for the held bill with this reference' }),
    lines: z
      .array(z.object({ sku: Sku, quantity: z.number().int().min(0).max(1_000_000), unitPrice: Money }))
      .min(1)
      .max(200),
    tax: Money,
    total: Money,
  })
  .refine((b) => b.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0) + b.tax === b.total, {
    message: 'total must equal the sum of quantity × unitPrice over the lines plus tax',
    path: ['total'],
  })
  .openapi('VendorBill');

export const ChannelCode = z
  .string()
  .regex(/^[a-z0-9-]{1,32}$/, 'a channel code: 1-32 lower-case letters, digits or dashes');
export const ChannelInput = z.object({
  code: ChannelCode,
  name: line(100),
  kind: z.enum(CHANNEL_KINDS),
  warehouses: z
    .array(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'a warehouse code'))
    .max(100)
    .optional()
    .openapi({ description: 'the warehouses that serve the channel; omitted or empty: every warehouse' }),
  bufferUnits: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(0)
    .openapi({ description: 'units held back for the other channels' }),
  bufferPct: z
    .number()
    .min(0)
    .max(100)
    .default(0)
    .openapi({ description: 'percent of the pool held back; the larger of the two buffers applies' }),
  cap: z
    .number()
    .int()
    .min(0)
    .max(1_000_000_000)
    .nullable()
    .default(null)
    .openapi({ description: 'the most the channel may show; null: no cap' }),
  connection: z
    .object({
      endpoint: z.string().url().max(500),
      credentialsRef: z
        .string()
        .regex(/^[A-Z][A-Z0-9_]{0,99}$/, 'the name of an environment variable, such as MARKETPLACE_SECRET')
        .openapi({
          description:
            "the environment variable (on the API's host) holding the channel's secret, never the secret itself; it verifies the marketplace's webhooks",
        }),
      ratePerSecond: z.number().positive().max(10_000),
      pollSeconds: z.number().min(1).max(3600).optional().openapi({
        description:
          "a marketplace's order feed is read this often (default MARKETPLACE_POLL_SECONDS); its webhooks are faster",
      }),
    })
    .nullable()
    .default(null),
});
export const UpsertChannels = z.object({ channels: z.array(ChannelInput).min(1).max(100) });
export const AvailabilityQuery = z.object({
  channel: ChannelCode,
  sku: z.union([Sku, z.array(Sku).min(1).max(1000)]).openapi({ description: 'repeat for each SKU, up to 1,000' }),
});
export const AvailabilityChangesQuery = z.object({
  channel: ChannelCode,
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});
export const PlaceHold = z.object({
  channel: ChannelCode,
  lines: z
    .array(z.object({ sku: Sku, quantity: Quantity }))
    .min(1)
    .max(100),
  ttlSeconds: z
    .number()
    .int()
    .min(10)
    .max(86_400)
    .openapi({ description: 'how long the units are held: 10 s to a day' }),
});
export const Channel = z
  .object({
    code: z.string(),
    name: z.string(),
    kind: z.enum(CHANNEL_KINDS),
    warehouses: z
      .union([z.array(z.string()), z.literal('all')])
      .openapi({ description: 'the codes of the warehouses that serve it, or all' }),
    bufferUnits: z.number().int(),
    bufferPct: z.number(),
    cap: z.number().int().nullable(),
    connection: z
      .object({
        endpoint: z.string(),
        credentialsRef: z.string(),
        ratePerSecond: z.number(),
        pollSeconds: z.number().optional(),
      })
      .nullable(),
    sync: z
      .object({
        cursor: z.number().int().openapi({ description: 'the change feed, pushed up to here' }),
        pending: z.number().int().openapi({ description: 'SKUs with a change not told yet' }),
        lagSeconds: z.number().openapi({ description: 'age of the oldest change not told yet' }),
        lastError: z.string().nullable(),
        lastPushedAt: Timestamp.nullable(),
        pushedItems: z.number().int(),
        pushCalls: z.number().int(),
        orders: z
          .object({
            feedCursor: z.number().int(),
            polledAt: Timestamp.nullable(),
            untoldUpdates: z.number().int().openapi({ description: 'order updates the marketplace was not told yet' }),
          })
          .optional()
          .openapi({ description: "a marketplace's order feed" }),
      })
      .optional()
      .openapi({ description: 'where its sync stands (a connected channel only)' }),
  })
  .openapi('Channel');
export const ChannelList = z.object({ channels: z.array(Channel) }).openapi('ChannelList');
export const Availability = z
  .object({
    channel: z.string(),
    items: z.array(
      z.object({
        sku: z.string(),
        available: z.number().int().openapi({ description: 'what the channel may promise now' }),
        incoming: z
          .array(z.object({ date: z.string().openapi({ format: 'date' }), quantity: z.number().int() }))
          .openapi({ description: 'expected on open purchase orders, by day (none for a kit)' }),
      }),
    ),
  })
  .openapi('Availability');
export const AvailabilityChanges = z
  .object({
    channel: z.string(),
    changes: z.array(z.object({ sku: z.string(), available: z.number().int(), seq: z.number().int() })),
    next: z.number().int().openapi({ description: 'pass as `after` for the next changes' }),
  })
  .openapi('AvailabilityChanges');
export const Hold = z
  .object({
    holdId: z.string(),
    channel: z.string(),
    status: z.string().openapi({ description: 'active, released, expired or consumed' }),
    expiresAt: Timestamp,
    orderId: z.string().optional().openapi({ description: 'the order that claimed it' }),
    lines: z.array(z.object({ sku: z.string(), quantity: z.number().int() })),
  })
  .openapi('Hold');

// Answers the console reads, declared so its client is typed from this document.

export const ApprovalList = z
  .object({
    approvals: z.array(
      z.object({
        approvalId: z.string(),
        kind: z.string().openapi({ description: 'refund or purchase_order' }),
        subjectType: z.string(),
        subjectId: z.string(),
        workflowId: z.string().nullable(),
        amount: z.number(),
        currency: z.string(),
        reason: z.string().nullable(),
        priority: z.string().nullable(),
        requestedAt: Timestamp,
        slaDueAt: Timestamp,
        slaBreached: z.boolean(),
        escalatedAt: Timestamp.optional(),
        decision: z.string().optional(),
        decidedAmount: z.number().optional(),
        decidedBy: z.string().optional(),
      }),
    ),
  })
  .openapi('ApprovalList');

const ExceptionSummary = z.object({
  exceptionId: z.string(),
  type: z.string(),
  status: z.string(),
  severity: z.string(),
  queue: z.string(),
  subjectType: z.string(),
  subjectId: z.string(),
  summary: z.string(),
  openedAt: Timestamp,
  slaDueAt: Timestamp.optional(),
  slaBreached: z.boolean(),
  escalationLevel: z.number(),
  claimedBy: z.string().optional(),
  resolution: z.unknown().optional(),
  resolvedAt: Timestamp.optional(),
});

export const ExceptionList = z.object({ exceptions: z.array(ExceptionSummary) }).openapi('ExceptionList');
export const ExceptionCase = ExceptionSummary.extend({
  description: z.string().nullable().optional(),
  details: z.unknown(),
  allowedActions: z.array(z.object({ action: z.string(), effect: z.string() })),
  context: z.object({
    order: z
      .object({
        orderId: z.string(),
        status: z.string(),
        customer: z.object({ email: z.string(), name: z.string() }),
        shippingAddress: Address,
        totals: z.object({ subtotal: z.number(), shipping: z.number(), tax: z.number(), total: z.number() }),
      })
      .optional(),
    return: z.object({ returnId: z.string(), status: z.string(), orderId: z.string() }).optional(),
    process: z.object({ workflowId: z.string(), stage: z.string(), waitingFor: z.unknown() }).optional(),
  }),
}).openapi('ExceptionCase');
export const ExceptionClaim = z.object({ exceptionId: z.string(), claimedBy: z.string() }).openapi('ExceptionClaim');
export const ExceptionResolution = z
  .object({ exceptionId: z.string(), action: z.string(), accepted: z.boolean() })
  .openapi('ExceptionResolution');

const ListPaging = {
  cursor: z.string().max(200).optional().openapi({ description: "the previous page's `next`" }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
};

const CsvFormat = z
  .enum(['json', 'csv'])
  .optional()
  .openapi({ description: 'csv: every match, streamed (no paging); `Accept: text/csv` does the same' });

export const OrderListQuery = z
  .object({
    ref: z.string().max(64).optional().openapi({ description: "the channel's order reference, or its beginning" }),
    email: z.string().max(254).optional(),
    status: z
      .string()
      .regex(/^[a-z_]{1,32}$/)
      .optional(),
    channel: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/)
      .optional(),
    placedFrom: z.string().datetime({ offset: true }).optional(),
    placedTo: z.string().datetime({ offset: true }).optional(),
    format: CsvFormat,
    ...ListPaging,
  })
  .openapi('OrderListQuery');

export const OrderList = z
  .object({
    orders: z.array(
      z.object({
        orderId: z.string(),
        externalRef: z.string(),
        channel: z.string(),
        status: z.string(),
        customerEmail: z.string(),
        customerName: z.string(),
        total: z.number(),
        currency: z.string(),
        placedAt: Timestamp,
      }),
    ),
    next: z.string().nullable(),
  })
  .openapi('OrderList');

export const Dispute = z
  .object({
    disputeId: z.string(),
    providerDisputeId: z.string(),
    orderId: z.string(),
    amount: z.number().int(),
    currency: z.string(),
    reason: z.string(),
    status: z.enum(['needs_response', 'under_review', 'won', 'lost']),
    evidenceDueBy: z.string(),
    openedAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .openapi('Dispute');

export const Order = z
  .object({
    orderId: z.string(),
    workflowId: z.string(),
    channel: z.string(),
    externalRef: z.string(),
    status: z.string(),
    currency: z.string(),
    customer: z.object({ email: z.string(), name: z.string() }),
    shippingAddress: Address,
    backorderPolicy: z.enum(['ship_available', 'wait', 'cancel']),
    totals: z.object({
      subtotal: z.number().int(),
      shipping: z.number().int(),
      tax: z.number().int(),
      total: z.number().int(),
    }),
    cancelReason: z.string().optional(),
    placedAt: Timestamp,
    lines: z.array(
      z.object({
        lineNo: z.number().int(),
        sku: z.string(),
        name: z.string(),
        quantity: z.number().int(),
        unitPrice: z.number().int(),
        net: z.number().int(),
        tax: z.number().int(),
        quantityShipped: z.number().int(),
        quantityCancelled: z.number().int(),
      }),
    ),
    reservations: z.array(
      z.object({
        sku: z.string(),
        warehouse: z.string(),
        quantity: z.number().int(),
        state: z.string(),
        shipmentId: z.string().nullable(),
      }),
    ),
    shipments: z.array(
      z.object({
        shipmentId: z.string(),
        warehouse: z.string(),
        status: z.string(),
        wave: z.number().int(),
        carrier: z.string().optional(),
        trackingNumber: z.string().optional(),
        shippedAt: Timestamp.optional(),
        deliveredAt: Timestamp.optional(),
        lines: z.array(z.object({ sku: z.string(), quantity: z.number().int() })),
      }),
    ),
    payments: z.array(
      z.object({
        kind: z.string(),
        amount: z.number().int(),
        currency: z.string(),
        status: z.string(),
        providerRef: z.string().nullable(),
        invoiceId: z.string().optional(),
        returnId: z.string().optional(),
        failureReason: z.string().optional(),
        at: Timestamp,
      }),
    ),
    invoices: z.array(
      z.object({
        invoiceId: z.string(),
        number: z.string(),
        subtotal: z.number().int(),
        shipping: z.number().int(),
        tax: z.number().int(),
        total: z.number().int(),
        status: z.string(),
        issuedAt: Timestamp,
      }),
    ),
    returns: z.array(
      z.object({
        returnId: z.string(),
        rmaNumber: z.string().optional(),
        status: z.string(),
        resolution: z.string(),
        refundAmount: z.number().int().optional(),
        requestedAt: Timestamp,
      }),
    ),
    exceptions: z
      .array(
        z.object({
          exceptionId: z.string(),
          type: z.string(),
          severity: z.string(),
          queue: z.string(),
          summary: z.string(),
          openedAt: Timestamp,
        }),
      )
      .openapi({ description: 'open cases about the order' }),
    tickets: z.array(Ticket).openapi({ description: 'the newest 50' }),
    disputes: z.array(Dispute).openapi({ description: "chargebacks of the order's payments" }),
    process: ProcessView,
  })
  .openapi('Order');

const AccountCode = z.string().regex(/^[0-9]{4}$/, 'an account code is four digits');

export const PurchaseOrderList = z
  .object({
    purchaseOrders: z.array(
      z.object({
        poId: z.string(),
        number: z.string(),
        status: z.string(),
        origin: z.string(),
        supplier: z.string(),
        warehouse: z.string(),
        total: z.number(),
        currency: z.string(),
        createdAt: Timestamp,
        expectedAt: Timestamp.optional(),
      }),
    ),
    next: z.string().nullable(),
  })
  .openapi('PurchaseOrderList');

const MatchLine = z.object({
  sku: z.string(),
  ordered: z.number(),
  received: z.number(),
  billable: z.number().openapi({ description: 'received and not yet billed when the bill arrived' }),
  billed: z.number(),
  orderPrice: z.number(),
  billedPrice: z.number(),
  quantityOk: z.boolean(),
  priceOk: z.boolean(),
  problem: z.string().optional(),
});

export const PurchaseOrderView = z
  .object({
    poId: z.string(),
    number: z.string(),
    workflowId: z.string(),
    status: z.string(),
    origin: z.string(),
    supplier: z.string(),
    supplierName: z.string(),
    warehouse: z.string(),
    currency: z.string(),
    total: z.number(),
    note: z.string().optional(),
    supplierRef: z.string().optional(),
    decidedBy: z.string().optional(),
    createdAt: Timestamp,
    sentAt: Timestamp.optional(),
    expectedAt: Timestamp.optional(),
    closedAt: Timestamp.optional(),
    lines: z.array(
      z.object({
        sku: z.string(),
        quantity: z.number(),
        unitPrice: z.number(),
        received: z.number(),
        quarantined: z.number(),
        billed: z.number(),
        cancelled: z.number(),
        explanation: z.unknown().optional(),
      }),
    ),
    receipts: z.array(z.object({ receiptId: z.string(), receivedAt: Timestamp })),
    bills: z.array(
      z.object({
        billId: z.string(),
        kind: z.string(),
        supplierInvoiceRef: z.string(),
        status: z.string(),
        subtotal: z.number(),
        tax: z.number(),
        total: z.number(),
        match: z.array(MatchLine).optional(),
        postedAt: Timestamp.optional(),
        dueAt: Timestamp.optional(),
      }),
    ),
    payments: z.array(
      z.object({ billId: z.string(), amount: z.number(), bankReference: z.string(), paidAt: Timestamp }),
    ),
    process: z
      .object({ live: z.boolean(), stage: z.string().optional(), waitingFor: z.unknown().optional() })
      .passthrough(),
  })
  .openapi('PurchaseOrderView');

export const SupplierList = z
  .object({
    suppliers: z.array(
      z.object({
        code: z.string(),
        name: z.string(),
        currency: z.string(),
        email: z.string().optional(),
        leadTimeDays: z.number().int(),
        paymentTermsDays: z.number().int(),
        active: z.boolean(),
        prices: z.array(
          z.object({
            sku: z.string(),
            unitPrice: z.number().int(),
            moq: z.number().int(),
            packSize: z.number().int(),
            leadTimeDays: z.number().int(),
          }),
        ),
      }),
    ),
  })
  .openapi('SupplierList');

/** Why the planner proposed what it did for one SKU and warehouse (activities/purchasing/planning.ts). */
const ReplenishmentExplanation = z.object({
  abcClass: z.enum(['A', 'B', 'C']),
  onHand: z.number(),
  reserved: z.number(),
  backordered: z.number(),
  incoming: z.number(),
  projected: z.number(),
  forecast: z.object({
    recent: z.number(),
    prior: z.number(),
    trendPerDay: z.number(),
    ratePerDay: z.number(),
    sigma: z.number(),
  }),
  leadTimeDays: z.number(),
  serviceLevel: z.number().nullable(),
  z: z.number().nullable(),
  safetyStock: z.number(),
  reorderPoint: z.number(),
  orderUpTo: z.number(),
  shortfall: z.number(),
  moq: z.number(),
  packSize: z.number(),
  quantity: z.number(),
  daysOfCover: z.number().nullable(),
  stockoutRisk: z.boolean(),
  reason: z.string(),
});

export const ReplenishmentRun = z
  .object({
    runId: z.string(),
    trigger: z.string(),
    plannedAt: Timestamp,
    rules: z.number().int().openapi({ description: 'reorder rules planned' }),
    proposals: z.array(
      z.object({
        sku: z.string(),
        warehouse: z.string(),
        decision: z.enum(['proposed', 'covered', 'above_reorder_point', 'no_supplier']),
        quantity: z.number().int(),
        supplier: z.string().optional(),
        unitPrice: z.number().int().optional(),
        poNumber: z.string().optional(),
        explanation: ReplenishmentExplanation,
      }),
    ),
    stockoutRisks: z.array(
      z.object({
        sku: z.string(),
        warehouse: z.string(),
        projected: z.number(),
        daysOfCover: z.number().nullable(),
        leadTimeDays: z.number(),
      }),
    ),
    purchaseOrders: z.array(
      z.object({
        poId: z.string(),
        number: z.string(),
        supplier: z.string(),
        warehouse: z.string(),
        total: z.number().int(),
        currency: z.string(),
        lines: z.array(z.object({ sku: z.string(), quantity: z.number().int(), unitPrice: z.number().int() })),
      }),
    ),
  })
  .openapi('ReplenishmentRun');

export const PurchaseOrderCreated = z
  .object({
    poId: z.string(),
    number: z.string(),
    workflowId: z.string(),
    total: z.number().int(),
    currency: z.string(),
  })
  .openapi('PurchaseOrderCreated');
export const PurchaseOrderDecision = z
  .object({ poId: z.string(), number: z.string(), decision: z.enum(['approve', 'reject']) })
  .openapi('PurchaseOrderDecision');
export const PurchaseReceipt = z
  .object({
    poId: z.string(),
    number: z.string(),
    receiptId: z.string(),
    lines: z.array(
      z.object({
        sku: z.string(),
        intoStock: z.number().int(),
        quarantined: z.number().int().openapi({ description: 'beyond the tolerance: held for a person' }),
        unitCost: z.number().int(),
      }),
    ),
    received: z.number().int().openapi({ description: 'units received on the whole order so far' }),
    ordered: z.number().int(),
    quarantined: z.number().int(),
    ordersWaiting: z.array(z.string()).openapi({ description: 'processes of backordered orders told stock arrived' }),
  })
  .openapi('PurchaseReceipt');
export const VendorBillResult = z
  .object({
    poId: z.string(),
    number: z.string(),
    billId: z.string(),
    kind: z.enum(['bill', 'credit_note']),
    status: z.string().openapi({ description: 'matched, mismatch, …' }),
    matched: z.boolean(),
    posted: z.boolean().openapi({ description: 'on the books as payable (matched, or accepted by a person)' }),
    lines: z.array(MatchLine),
    billedUnits: z.number().int().openapi({ description: 'units billed on the whole order so far' }),
    repeat: z.boolean().optional().openapi({ description: 'this document was already recorded; nothing changed' }),
  })
  .openapi('VendorBillResult');

const SlaCount = { slaBreached: z.number(), oldest: Timestamp };

export const OperationsReport = z
  .object({
    windowDays: z.number(),
    ordersByStage: z.record(z.string(), z.number()).openapi({ description: 'orders placed in the window, by status' }),
    fulfilmentHours: z.object({ p50: z.number().nullable(), p90: z.number().nullable(), orders: z.number() }),
    fulfilmentByDay: z.array(z.object({ day: z.string(), p50: z.number(), p90: z.number(), orders: z.number() })),
    lateOrders: z.object({ promiseHours: z.number(), count: z.number(), oldestPlacedAt: Timestamp.nullable() }),
    returnRateBySku: z.array(
      z.object({ sku: z.string(), shipped: z.number(), returned: z.number(), rate: z.number().nullable() }),
    ),
    returnsByReason: z.array(z.object({ reason: z.string(), lines: z.number(), units: z.number() })),
    openExceptions: z.array(z.object({ type: z.string(), open: z.number(), ...SlaCount })),
    pendingApprovals: z.array(z.object({ kind: z.string(), pending: z.number(), ...SlaCount })),
    stockoutRisks: z.array(
      z.object({
        source: z.enum(['planner', 'demand']),
        sku: z.string(),
        warehouse: z.string().optional(),
        projected: z.number().optional(),
        available: z.number().optional(),
        dailyDemand: z.number().optional(),
        daysOfCover: z.number().nullable(),
        leadTimeDays: z.number().optional(),
      }),
    ),
    lateSuppliers: z.array(
      z.object({
        purchaseOrder: z.string(),
        supplier: z.string(),
        expectedAt: Timestamp,
        status: z.string(),
        ordered: z.number(),
        received: z.number(),
        daysLate: z.number(),
      }),
    ),
  })
  .openapi('OperationsReport');

export const JournalQuery = z
  .object({
    account: AccountCode.optional().openapi({ description: 'only entries that touch this account' }),
    source: z
      .string()
      .regex(/^[a-z_]{1,40}$/)
      .optional()
      .openapi({ description: 'what posted the entry: shipment, refund, vendor_bill, …' }),
    sourceId: z.string().max(100).optional(),
    from: z.string().datetime({ offset: true }).optional(),
    to: z.string().datetime({ offset: true }).optional(),
    format: CsvFormat,
    ...ListPaging,
  })
  .openapi('JournalQuery');

export const JournalList = z
  .object({
    entries: z.array(
      z.object({
        entryId: z.string(),
        postedAt: Timestamp,
        description: z.string(),
        source: z.string(),
        sourceId: z.string(),
        currency: z.string(),
        lines: z.array(
          z.object({ account: z.string(), accountName: z.string(), debit: z.number(), credit: z.number() }),
        ),
      }),
    ),
    next: z.string().nullable(),
  })
  .openapi('JournalList');

export const TrialBalanceQuery = z
  .object({
    asOf: z
      .string()
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'the balance of what was posted before this moment (default: now)' }),
    format: CsvFormat,
  })
  .openapi('TrialBalanceQuery');

export const TrialBalance = z
  .object({
    currency: z.string(),
    asOf: Timestamp,
    accounts: z.array(
      z.object({
        code: z.string(),
        name: z.string(),
        type: z.string(),
        debit: z.number(),
        credit: z.number(),
        balance: z.number(),
      }),
    ),
    totalDebit: z.number(),
    totalCredit: z.number(),
  })
  .openapi('TrialBalance');

export const AuditQuery = z.object({
  action: z
    .string()
    .regex(/^[a-z_.]{1,50}$/)
    .optional(),
  keyName: z.string().max(200).optional(),
  target: z.string().max(200).optional(),
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
  ...ListPaging,
});

export const AuditList = z
  .object({
    entries: z.array(
      z.object({
        id: z.string(),
        at: Timestamp,
        keyName: z.string(),
        roles: z.array(z.string()).nullable(),
        action: z.string(),
        method: z.string(),
        path: z.string(),
        target: z.string().nullable(),
        status: z.number(),
        requestId: z.string(),
        workflowId: z.string().nullable(),
      }),
    ),
    next: z.string().nullable(),
  })
  .openapi('AuditList');

export const ApiKeyList = z
  .object({
    keys: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        prefix: z.string(),
        roles: z.array(z.string()),
        createdAt: Timestamp,
        revokedAt: Timestamp.nullable(),
      }),
    ),
  })
  .openapi('ApiKeyList');

export const TicketListQuery = z.object({
  status: TicketStatus.optional(),
  queue: z
    .string()
    .regex(/^[a-z_]{1,50}$/)
    .optional(),
  assignee: z.string().max(200).optional(),
  email: z.string().max(254).optional(),
  orderId: Uuid.optional(),
  ...ListPaging,
});
export const TicketParams = z.object({ id: Uuid });
export const TicketAssignment = z.object({
  assignee: z
    .string()
    .min(1)
    .max(200)
    .nullable()
    .openapi({ description: 'who works it; null to give it back to the queue' }),
});
export const TicketStatusChange = z.object({ status: TicketStatus });
export const TicketMessage = z.object({
  kind: z
    .enum(['note', 'reply'])
    .openapi({ description: 'note: for colleagues only; reply: e-mailed to the customer' }),
  body: text(10000),
});
export const TicketList = z.object({ tickets: z.array(Ticket), next: z.string().nullable() }).openapi('TicketList');
export const TicketDetail = Ticket.extend({
  body: z.string(),
  messages: z.array(
    z.object({
      kind: z.enum(['note', 'reply']),
      author: z.string(),
      body: z.string(),
      createdAt: Timestamp,
      notificationId: z.string().nullable().openapi({ description: 'a reply: its message in the outbox' }),
    }),
  ),
}).openapi('TicketDetail');
export const TicketAssigned = z
  .object({ ticketId: z.string(), assignee: z.string().nullable() })
  .openapi('TicketAssigned');
export const TicketStatusChanged = z
  .object({ ticketId: z.string(), status: TicketStatus })
  .openapi('TicketStatusChanged');
export const TicketMessageAdded = z
  .object({ ticketId: z.string(), kind: z.enum(['note', 'reply']), added: z.boolean() })
  .openapi('TicketMessageAdded');

export const ReturnListQuery = z.object({
  status: z
    .string()
    .regex(/^[a-z_]{1,32}$/)
    .optional(),
  orderId: Uuid.optional(),
  ...ListPaging,
});
export const ReturnCreated = z
  .object({ returnId: z.string(), workflowId: z.string(), status: z.string() })
  .openapi('ReturnCreated');
export const ReturnList = z
  .object({
    returns: z.array(
      z.object({
        returnId: z.string(),
        rmaNumber: z.string().optional(),
        orderId: z.string(),
        status: z.string(),
        resolution: z.string(),
        requestedAt: Timestamp,
      }),
    ),
    next: z.string().nullable(),
  })
  .openapi('ReturnList');
export const ReturnView = z
  .object({
    returnId: z.string(),
    rmaNumber: z.string().optional(),
    orderId: z.string(),
    workflowId: z.string(),
    status: z.string(),
    resolution: z.string(),
    note: z.string().optional(),
    outcomeReason: z.string().optional(),
    label: z.object({ carrier: z.string().nullable(), trackingNumber: z.string() }).optional(),
    refundAmount: z.number().int().optional(),
    replacementOrderId: z.string().optional(),
    requestedAt: Timestamp,
    lines: z.array(
      z.object({
        sku: z.string(),
        quantity: z.number().int(),
        reason: z.string(),
        quantityReceived: z.number().int(),
        quantityInspected: z.number().int(),
      }),
    ),
    inspections: z.array(
      z.object({ sku: z.string(), quantity: z.number().int(), condition: z.string(), disposition: z.string() }),
    ),
    creditNote: z
      .object({
        creditNoteId: z.string(),
        number: z.string(),
        net: z.number().int(),
        tax: z.number().int(),
        total: z.number().int(),
        issuedAt: Timestamp,
      })
      .optional(),
    refunds: z.array(
      z.object({ amount: z.number().int(), status: z.string(), providerRef: z.string().optional(), at: Timestamp }),
    ),
    approvals: z.array(
      z.object({
        approvalId: z.string(),
        status: z.string(),
        amount: z.number().int(),
        reason: z.string(),
        priority: z.string(),
        slaDueAt: Timestamp,
        escalatedAt: Timestamp.optional(),
        decision: z.string().optional(),
        decidedAmount: z.number().int().optional(),
        decidedBy: z.string().optional(),
      }),
    ),
    process: ProcessView,
  })
  .openapi('ReturnView');
export const ReturnReceipt = z
  .object({
    returnId: z.string(),
    received: z.number().int().openapi({ description: 'units received so far' }),
    expected: z.number().int(),
  })
  .openapi('ReturnReceipt');
export const ReturnInspection = z
  .object({
    returnId: z.string(),
    lines: z.array(
      z.object({
        sku: z.string(),
        quantity: z.number().int(),
        condition: z.enum(['new', 'opened', 'damaged', 'defective']),
        disposition: z.enum(['restock', 'repair', 'quarantine', 'scrap']),
      }),
    ),
  })
  .openapi('ReturnInspection');
export const ReturnDecision = z
  .object({
    returnId: z.string(),
    decision: z.enum(['approve', 'reject', 'partial']),
    repeat: z.boolean().openapi({ description: 'true: this decision was already taken; nothing done again' }),
  })
  .openapi('ReturnDecision');

export const ShipmentList = z
  .object({
    shipments: z.array(
      z.object({
        shipmentId: z.string(),
        orderId: z.string(),
        warehouse: z.string(),
        status: z.string(),
        carrier: z.string().optional(),
        trackingNumber: z.string().optional(),
        createdAt: Timestamp,
      }),
    ),
  })
  .openapi('ShipmentList');

// Outbound webhooks.
const EventFilter = z
  .string()
  .refine((v) => EVENT_FILTERS.includes(v), {
    message: `an event type (${EVENT_TYPES.slice(0, 3).join(', ')}, …), a subject's every event (order.*) or *`,
  })
  .openapi({ description: 'An event type, `order.*` (every event of a subject) or `*`', example: 'order.shipped' });
export const NewWebhookSubscription = z
  .object({
    url: z.string().max(2000).url().openapi({
      description: 'Where events are POSTed (public addresses only, unless an operator allowed a network)',
    }),
    eventTypes: z.array(EventFilter).min(1).max(EVENT_FILTERS.length),
    description: text(500).optional(),
  })
  .strict()
  .openapi('NewWebhookSubscription');
export const WebhookSubscriptionParams = z.object({ id: Uuid });
export const WebhookSubscription = z
  .object({
    subscriptionId: z.string(),
    url: z.string(),
    eventTypes: z.array(z.string()),
    description: z.string().optional(),
    createdBy: z.string().optional(),
    createdAt: Timestamp,
    pending: z.number().int(),
    dead: z.number().int(),
  })
  .openapi('WebhookSubscription');
export const CreatedWebhookSubscription = WebhookSubscription.extend({
  secret: z.string().openapi({
    description: 'The signing secret (whsec_…), shown this once: verify webhook-signature with it (Standard Webhooks)',
  }),
}).openapi('CreatedWebhookSubscription');
export const WebhookSubscriptionList = z
  .object({ subscriptions: z.array(WebhookSubscription) })
  .openapi('WebhookSubscriptionList');
export const DeliveryListQuery = z.object({
  status: z.enum(['pending', 'delivered', 'dead', 'cancelled']).optional(),
  ...ListPaging,
});
export const WebhookDeliveryList = z
  .object({
    deliveries: z.array(
      z.object({
        deliveryId: z.string(),
        eventId: z.string().openapi({ description: 'The webhook-id the receiver saw' }),
        type: z.string(),
        subject: z.string(),
        status: z.enum(['pending', 'delivered', 'dead', 'cancelled']),
        attempts: z.number().int(),
        nextAttemptAt: Timestamp.optional(),
        lastStatusCode: z.number().int().optional(),
        lastError: z.string().optional(),
        deliveredAt: Timestamp.optional(),
        createdAt: Timestamp,
      }),
    ),
    next: z.string().nullable(),
  })
  .openapi('WebhookDeliveryList');
export const Redelivery = z
  .object({
    deliveryIds: z
      .array(z.string().regex(/^\d{1,18}$/, 'a delivery id'))
      .min(1)
      .max(1000)
      .optional()
      .openapi({ description: 'Only these dead deliveries; omitted: every dead delivery of the subscription' }),
  })
  .strict()
  .openapi('Redelivery');
export const RedeliveryResult = z.object({ redelivered: z.number().int() }).openapi('RedeliveryResult');

// Landed costs.
export const LandedCostBody = z
  .object({
    kind: z.enum(LANDED_COST_KINDS),
    method: z.enum(ALLOCATION_METHODS).openapi({
      description: "How it is spread over the order's received products: by their value, units or weight",
    }),
    amount: Money.refine((v) => v > 0, 'must be more than 0'),
    currency: Currency,
    billRef: line(100).openapi({ description: "The carrier's, customs' or insurer's bill number" }),
    billedBy: line(200).openapi({ description: 'Who billed it (carrier, customs broker, insurer)' }),
  })
  .strict()
  .openapi('LandedCostBody');
export const LandedCost = z
  .object({
    landedCostId: z.string(),
    poId: z.string(),
    kind: z.enum(LANDED_COST_KINDS),
    method: z.enum(ALLOCATION_METHODS),
    amount: z.number().int(),
    currency: z.string(),
    billRef: z.string(),
    billedBy: z.string(),
    recordedAt: Timestamp,
    allocations: z.array(
      z.object({
        sku: z.string(),
        receivedUnits: z.number().int(),
        onHandUnits: z.number().int().openapi({ description: 'Of those, still on hand when it was booked' }),
        amount: z.number().int(),
        toInventory: z.number().int(),
        toCostOfGoodsSold: z.number().int(),
        rounding: z
          .number()
          .int()
          .openapi({ description: 'To inventory adjustment: what whole minor units of cost cannot hold' }),
        costBefore: z.number().int(),
        costAfter: z.number().int(),
      }),
    ),
  })
  .openapi('LandedCost');
export const LandedCostList = z.object({ landedCosts: z.array(LandedCost) }).openapi('LandedCostList');

// Margins.
const Moment = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(v) && !Number.isNaN(Date.parse(v)), {
    message: 'a date (2026-11-01) or a moment (2026-11-01T00:00:00Z)',
  });
export const MarginQuery = z
  .object({
    by: z.enum(['order', 'sku', 'channel']).default('order'),
    from: Moment.optional().openapi({ description: 'Start, inclusive (default: 30 days before `to`)' }),
    to: Moment.optional().openapi({ description: 'End, exclusive (default: now)' }),
    format: z.enum(['json', 'csv']).optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    message: 'from must be before to',
    path: ['from'],
  });
const MarginFigures = {
  revenue: z.number().int().openapi({ description: 'Goods and shipping invoiced, net of tax (minor units)' }),
  refunds: z.number().int(),
  costOfGoods: z.number().int(),
  landedCosts: z.number().int(),
  fees: z.number().int(),
  commission: z.number().int(),
  shippingCost: z.number().int(),
  margin: z.number().int(),
  marginPct: z.number().nullable(),
};
export const MarginReport = z
  .object({
    by: z.enum(['order', 'sku', 'channel']),
    from: Timestamp,
    to: Timestamp,
    currency: z.string(),
    rows: z.array(
      z.object({
        key: z.string().nullable().openapi({
          description: 'The order id, SKU or channel; null: what the journal cannot attribute in this view',
        }),
        ...MarginFigures,
      }),
    ),
    totals: z.object(MarginFigures),
  })
  .openapi('MarginReport');

// The payload codec endpoint (Temporal's codec server protocol).
const WirePayload = z
  .object({
    metadata: z.record(z.string().max(200), z.string().max(10_000)).optional(),
    data: z.string().max(4_000_000).optional(),
  })
  .openapi({ description: 'A Temporal payload in its JSON form: metadata values and data in base64' });
export const CodecBody = z.object({ payloads: z.array(WirePayload).max(1000) }).openapi('CodecPayloads');

export const SettlementSummary = z
  .object({
    settlementId: z.string(),
    provider: z.string().openapi({ description: 'the payment provider, or marketplace:<channel> for a statement' }),
    payoutId: z.string(),
    currency: z.string(),
    net: z.number().int().openapi({ description: 'paid to the bank (minor units)' }),
    fees: z.number().int(),
    commission: z.number().int().openapi({ description: "a marketplace's commission (0 for a payment provider)" }),
    matched: z.number().int().openapi({ description: 'taken out of payment clearing (signed)' }),
    suspense: z.number().int().openapi({ description: 'unexplained at import, held in settlement suspense (signed)' }),
    openMismatches: z.number().int(),
    paidAt: z.string(),
    workflowId: z.string(),
  })
  .openapi('SettlementSummary');
export const SettlementList = z.object({ settlements: z.array(SettlementSummary) }).openapi('SettlementList');
export const Settlement = SettlementSummary.extend({
  lines: z.array(
    z.object({
      lineNo: z.number().int(),
      kind: z.string(),
      ref: z.string(),
      amount: z.number().int(),
      fee: z.number().int(),
      commission: z.number().int(),
      orderId: z.string().nullable(),
    }),
  ),
  mismatches: z.array(
    z.object({
      mismatchId: z.string(),
      kind: z.string(),
      amount: z.number().int(),
      status: z.string(),
      lineNo: z.number().int().nullable(),
    }),
  ),
}).openapi('Settlement');
export const SettlementParams = z.object({ settlementId: Uuid });
export const SettlementListQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

export const CarrierBillBody = z
  .object({
    carrier: line(50),
    billRef: line(100).openapi({ description: "The carrier's invoice number" }),
    currency: Currency,
    lines: z
      .array(
        z
          .object({
            shipmentId: Uuid.optional(),
            trackingNumber: line(100).optional(),
            amount: Money.refine((v) => v > 0, 'must be more than 0'),
          })
          .strict()
          .refine(
            (l) => !!l.shipmentId !== !!l.trackingNumber,
            'give the parcel by shipmentId or trackingNumber, one of them',
          ),
      )
      .min(1)
      .max(1000),
  })
  .strict()
  .openapi('CarrierBillBody');
export const CarrierBill = z
  .object({
    carrier: z.string(),
    billRef: z.string(),
    currency: z.string(),
    total: z.number().int(),
    lines: z.array(z.object({ shipmentId: z.string(), orderId: z.string(), amount: z.number().int() })),
  })
  .openapi('CarrierBill');
