/**
 * The API key and the channel behind nearly every request, kept in memory between requests: without it an
 * availability read was five queries, two of them for rows that change a few times a year.
 *
 * Correctness comes from Postgres, not from a timer: triggers (migration 034) NOTIFY `erp_changes` whenever
 * `api_keys`, `channels` or `channel_warehouses` is written by anyone, and every API process listening drops
 * that table's entries at once. While the listening connection is down (not yet connected, lost, reconnecting)
 * nothing is cached and every lookup reads the database, so a revoked key is refused by every process from the
 * moment the revocation commits (plus the milliseconds the notice takes). The TTL is only a backstop.
 * A lookup that started before a notice never stores its answer after it (the generation check).
 */
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import type { Db } from '../db';
import { activeKeyByHash } from '../db/access';
import { channelByCode, type ChannelRules } from '../db/channels';
import { logger } from '../lib/logger';

type KeyRow = NonNullable<Awaited<ReturnType<typeof activeKeyByHash>>>;

const TTL_MS = 5 * 60_000;
const RECONNECT_MS = 1_000;

export class Lookups {
  private keys = new LRUCache<string, KeyRow>({ max: 10_000, ttl: TTL_MS });
  private channels = new LRUCache<string, ChannelRules>({ max: 1_000, ttl: TTL_MS });
  private generation = 0;
  private listener?: pg.Client;
  private stopped = false;

  /** Without `listen`, a pass-through: every lookup reads the database. */
  constructor(
    private db: Db,
    private listenUrl?: string,
  ) {}

  /** Starts listening for changes; until the connection is up, lookups read the database. */
  async start(): Promise<this> {
    if (this.listenUrl)
      await this.listen().catch((err: Error) =>
        logger.warn(
          { err: err.message },
          'cannot listen for change notices yet; reading keys and channels from the database',
        ),
      );
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.changed();
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }

  /** Whether answers are being cached: only while the notices are heard. */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  /** The active key with this hash, or undefined (unknown or revoked keys are never cached). */
  keyByHash(hash: string): Promise<KeyRow | undefined> {
    return this.cached(this.keys, hash, () => activeKeyByHash(this.db, hash));
  }

  channel(code: string): Promise<ChannelRules | undefined> {
    return this.cached(this.channels, code, () => channelByCode(this.db, code));
  }

  private async cached<T extends object>(
    cache: LRUCache<string, T>,
    key: string,
    read: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    if (!this.listener) return read();
    const hit = cache.get(key);
    if (hit) return hit;
    const generation = this.generation;
    const found = await read();
    if (found && this.listener && generation === this.generation) cache.set(key, found);
    return found;
  }

  /** A table was written: drop what came from it (a notice does this for every process; the writer need not wait). */
  changed(table?: string): void {
    this.generation++;
    if (!table || table === 'api_keys') this.keys.clear();
    if (!table || table.startsWith('channel')) this.channels.clear();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.listenUrl, application_name: 'erp-api-change-notices' });
    const lost = (err?: Error) => {
      if (this.listener !== client) return;
      this.listener = undefined; // stop serving from memory first
      this.changed();
      if (this.stopped) return;
      logger.warn({ err: err?.message }, 'lost the change notices; reading keys and channels from the database');
      this.listenSoon();
    };
    client.on('notification', (n) => this.changed(n.payload));
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query('LISTEN erp_changes');
    } catch (err) {
      await client.end().catch(() => undefined);
      if (!this.stopped) this.listenSoon();
      throw err;
    }
    if (this.stopped) return void (await client.end());
    this.changed(); // anything read before now may predate a change we were not told of
    this.listener = client;
  }

  private listenSoon(): void {
    setTimeout(() => void this.listen().catch(() => undefined), RECONNECT_MS).unref();
  }
}
