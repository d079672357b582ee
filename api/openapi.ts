/** This API as an OpenAPI document, from the zod schemas every route declares (served at /openapi.json; the console's client is typed from it). */
import { OpenApiGeneratorV31, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

export function openApiDocument(registry: OpenAPIRegistry) {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'ERP process platform',
      version: '1.0.0',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description:
        'Orders, returns and purchases as durable processes over one ERP schema. Errors: {"error": {"code", "message", "details"}}.',
    },
    servers: [{ url: '/' }],
    tags: TAGS,
  });
}

/** The operation groups, in the order a reader meets them. */
const TAGS = [
  { name: 'Orders', description: 'Place, read, cancel and change orders: each is an order-to-cash process' },
  { name: 'Shipments', description: 'What the warehouse and the carrier report' },
  { name: 'Channels', description: 'Sales channels, what each may promise, checkout holds' },
  { name: 'Inventory', description: 'Stock positions, moves, counts and transfers' },
  { name: 'Returns', description: 'Return-to-refund: request, receive, inspect, decide' },
  { name: 'Purchasing', description: 'Suppliers, prices, reorder rules and procure-to-pay' },
  { name: 'Approvals', description: 'What waits for a person to decide' },
  { name: 'Exceptions', description: 'Exception cases: claim and resolve' },
  { name: 'Service', description: 'Customer tickets and the customer overview' },
  { name: 'Finance', description: 'The ledger: journal and trial balance' },
  { name: 'Reports', description: 'Operations reports' },
  { name: 'Master data', description: 'Products, warehouses and the audit log' },
  { name: 'Keys', description: 'API keys and their roles' },
  { name: 'Sessions', description: 'Console sign-in' },
  { name: 'Webhooks', description: 'Signed callbacks from providers, carriers and marketplaces' },
  { name: 'System', description: 'Health, metrics and this document' },
];
