/**
 * Money after the sale: importing the provider's payouts and answering its chargebacks. Each step is one
 * transaction on our books and safe to repeat (a payout is imported once, a mismatch decided once, a dispute
 * recorded and closed once); the provider's calls are repeatable by their nature (reads, and answering a
 * dispute that is already answered returns its standing).
 */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { z } from 'zod';
import { inTransaction } from '../../db';
import {
  closeDispute,
  decideMismatch,
  importPayout,
  importedPayouts,
  marketplaceSource,
  noteDisputeEvidence,
  recordDispute,
  rematchMismatch,
  type DisputeRecord,
  type ImportedSettlement,
  type Rematched,
} from '../../db/settlements';
import type { DisputeOutcome, DisputeStatus, Payout, PayoutToImport } from '../../contracts/settlement-types';
import { allChannels, channelByCode } from '../../db/channels';
import { marketplace } from '../channels/marketplace';
import type { ActivityDeps } from '../deps';

const MISSING_PAYOUT_ATTEMPTS = 30; // with the step profile's backoff (up to a minute apart): about half an hour

const minor = z.number().int().safe();
/** What a payout report must be before it touches the books (a provider's data is checked like a person's). */
const PayoutReport = z.object({
  payoutId: z.string().min(1).max(200),
  currency: z.string().regex(/^[A-Z]{3}$/),
  net: minor,
  paidAt: z.string().datetime({ offset: true }),
  lines: z
    .array(
      z.object({
        kind: z.enum(['capture', 'refund', 'dispute', 'dispute_reversal', 'order', 'adjustment']),
        ref: z.string().min(1).max(200),
        amount: minor,
        fee: minor.nonnegative(),
        commission: minor.nonnegative().optional(),
      }),
    )
    .max(100_000),
}) satisfies z.ZodType<Payout>;

/** The process calling this step: the record keeps it, so the API and the Temporal UI lead to each other. */
const processOf = () => Context.current().info.workflowExecution?.workflowId ?? 'none';

export function settlementActivities({ db, payments }: ActivityDeps) {
  async function statementOf(channel: string, id: string) {
    const c = await channelByCode(db, channel);
    if (!c?.connection) return null; // disconnected since: its statements cannot be read
    return marketplace.statement(c.connection, id);
  }

  return {
    /** The provider's payouts and every connected marketplace's statements not imported yet, oldest first. */
    async payoutsToImport(): Promise<PayoutToImport[]> {
      const due: PayoutToImport[] = [];
      const unseen = async (source: string, made: string[]) => {
        const imported = await importedPayouts(db, source, made);
        return made.filter((id) => !imported.has(id));
      };
      for (const payoutId of await unseen(payments.name, await payments.payouts())) due.push({ payoutId });
      for (const c of await allChannels(db)) {
        if (c.kind !== 'marketplace' || !c.connection) continue;
        // One marketplace away must not hold up the provider's payouts or the other marketplaces': next run.
        const made = await marketplace.statements(c.connection).catch((err: Error) => {
          log.warn('marketplace statements unreadable; asked again on the next run', {
            channel: c.code,
            error: err.message,
          });
          return [];
        });
        for (const payoutId of await unseen(marketplaceSource(c.code), made)) due.push({ payoutId, channel: c.code });
      }
      return due;
    },

    /**
     * Fetches the payout's report (or the marketplace's statement) and imports it once: lines, matches,
     * mismatches and one balanced entry.
     */
    async importSettlement(input: PayoutToImport): Promise<ImportedSettlement> {
      const [source, payout] = input.channel
        ? [marketplaceSource(input.channel), await statementOf(input.channel, input.payoutId)]
        : [payments.name, await payments.payout(input.payoutId)];
      // Announced before its report is there (or the marketplace is unreachable): asked again with backoff, for
      // about half an hour; then a person hears of it (an activity_failed case: retry or give up).
      if (!payout) {
        const message = `${source} has no payout ${input.payoutId}`;
        if (Context.current().info.attempt >= MISSING_PAYOUT_ATTEMPTS)
          throw ApplicationFailure.nonRetryable(`${message}; check the id in its dashboard`, 'UnknownPayout');
        throw new Error(`${message} yet; asked again shortly`);
      }
      const parsed = PayoutReport.safeParse(payout);
      if (!parsed.success)
        throw ApplicationFailure.nonRetryable(
          `${source} payout ${input.payoutId} is not a report we can read (${parsed.error.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.')}: ${i.message}`)
            .join('; ')}); the settlement schedule tries it again once the provider corrects it`,
          'UnreadablePayout',
        );
      const workflowId = processOf();
      return inTransaction(db, (tx) => importPayout(tx, source, parsed.data, workflowId));
    },

    async decideSettlementMismatch(input: {
      mismatchId: string;
      action: 'accept' | 'write_off';
      by?: string;
    }): Promise<{ status: string }> {
      return inTransaction(db, (tx) => decideMismatch(tx, input.mismatchId, input.action, input.by));
    },

    async rematchSettlementMismatch(input: { mismatchId: string }): Promise<Rematched> {
      return inTransaction(db, (tx) => rematchMismatch(tx, input.mismatchId));
    },

    /** Records the provider's chargeback once and books the withdrawal. */
    async recordDispute(input: { providerDisputeId: string }): Promise<DisputeRecord> {
      const d = await payments.dispute(input.providerDisputeId);
      if (!d)
        throw ApplicationFailure.nonRetryable(
          `${payments.name} has no dispute ${input.providerDisputeId}`,
          'UnknownDispute',
        );
      const workflowId = processOf();
      return inTransaction(db, (tx) => recordDispute(tx, payments.name, d, workflowId));
    },

    /** Sends the evidence (or the acceptance) to the provider; answers the dispute's standing there. */
    async respondToDispute(input: {
      disputeId: string;
      providerDisputeId: string;
      evidence?: string;
      accept?: boolean;
      by?: string;
    }): Promise<{ status: DisputeStatus }> {
      const d = await payments.respondToDispute({
        disputeId: input.providerDisputeId,
        evidence: input.evidence,
        accept: input.accept,
      });
      if (input.evidence)
        await inTransaction(db, (tx) => noteDisputeEvidence(tx, input.disputeId, input.evidence!, input.by));
      return { status: d.status };
    },

    async closeDispute(input: {
      disputeId: string;
      outcome: DisputeOutcome;
      by?: string;
    }): Promise<{ status: string }> {
      return inTransaction(db, (tx) => closeDispute(tx, input.disputeId, input.outcome, input.by));
    },
  };
}
