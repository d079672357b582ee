/** What activities need from the outside world, injected so tests and drills can swap providers. */
import type { Db } from '../db';
import type { Mailer } from './notifications/mailer';
import type { PaymentProvider } from './payments/provider';
import type { Bank, SupplierGateway } from './purchasing/supplier';

export interface ActivityDeps {
  db: Db;
  payments: PaymentProvider;
  mailer: Mailer;
  suppliers: SupplierGateway;
  bank: Bank;
}
