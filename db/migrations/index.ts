/** The migrations in order. Listed explicitly so they load the same under tsx, Jest and compiled JS. */
import type { Knex } from 'knex';
import * as catalog from './001_catalog';
import * as warehouses from './002_warehouses';
import * as sales from './003_sales';
import * as inventory from './004_inventory';
import * as shipping from './005_shipping';
import * as payments from './006_payments';
import * as accounting from './007_accounting';
import * as access from './008_access';
import * as exceptions from './009_exceptions';
import * as approvals from './010_approvals';
import * as returns from './011_returns';
import * as notifications from './012_notifications';
import * as exceptionCatalogue from './013_exception_catalogue';
import * as mail from './014_mail';
import * as shipmentFailures from './015_shipment_failures';
import * as service from './016_service';
import * as stockDrift from './017_stock_drift';
import * as reportIndexes from './018_report_indexes';
import * as stockShortageActions from './019_stock_shortage_actions';
import * as purchasing from './020_purchasing';
import * as activityFailedActions from './021_activity_failed_actions';
import * as requestKeys from './022_request_keys';
import * as requestFingerprints from './023_request_fingerprints';
import * as orphanedRecords from './024_orphaned_records';
import * as warehouseTruth from './025_warehouse_truth';
import * as channels from './026_channels';
import * as holds from './027_holds';
import * as channelSync from './028_channel_sync';
import * as channelSyncFailed from './029_channel_sync_failed';
import * as marketplaceOrders from './030_marketplace_orders';
import * as consoleSessions from './031_console_sessions';
import * as ticketLifecycle from './032_ticket_lifecycle';
import * as accountingJournalReading from './033_accounting_journal_reading';
import * as accessChangeNotices from './034_access_change_notices';
import * as webhooks from './035_webhooks';
import * as landedCosts from './036_landed_costs';
import * as settlements from './037_settlements';
import * as carrierCharges from './038_carrier_charges';
import * as reservationFunctions from './039_reservation_functions';

type Migration = { up(k: Knex): Promise<void>; down(k: Knex): Promise<void> };

const MIGRATIONS: Record<string, Migration> = {
  '001_catalog': catalog,
  '002_warehouses': warehouses,
  '003_sales': sales,
  '004_inventory': inventory,
  '005_shipping': shipping,
  '006_payments': payments,
  '007_accounting': accounting,
  '008_access': access,
  '009_exceptions': exceptions,
  '010_approvals': approvals,
  '011_returns': returns,
  '012_notifications': notifications,
  '013_exception_catalogue': exceptionCatalogue,
  '014_mail': mail,
  '015_shipment_failures': shipmentFailures,
  '016_service': service,
  '017_stock_drift': stockDrift,
  '018_report_indexes': reportIndexes,
  '019_stock_shortage_actions': stockShortageActions,
  '020_purchasing': purchasing,
  '021_activity_failed_actions': activityFailedActions,
  '022_request_keys': requestKeys,
  '023_request_fingerprints': requestFingerprints,
  '024_orphaned_records': orphanedRecords,
  '025_warehouse_truth': warehouseTruth,
  '026_channels': channels,
  '027_holds': holds,
  '028_channel_sync': channelSync,
  '029_channel_sync_failed': channelSyncFailed,
  '030_marketplace_orders': marketplaceOrders,
  '031_console_sessions': consoleSessions,
  '032_ticket_lifecycle': ticketLifecycle,
  '033_accounting_journal_reading': accountingJournalReading,
  '034_access_change_notices': accessChangeNotices,
  '035_webhooks': webhooks,
  '036_landed_costs': landedCosts,
  '037_settlements': settlements,
  '038_carrier_charges': carrierCharges,
  '039_reservation_functions': reservationFunctions,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};
