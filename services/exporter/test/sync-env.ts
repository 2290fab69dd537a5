/**
 * An exporter's configuration for sync tests: membership, ingestion (and, unless `extra` says
 * otherwise, segments) at the peer stubs, queues looked at and retried fast, and the local
 * webhook receiver reachable — it listens on loopback, which webhooks may reach only when allowed.
 */
export function fastSyncEnv(
  peers: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    EXPORTER_SEGMENTS_ADDRESS: peers,
    EXPORTER_MEMBERSHIP_ADDRESS: peers,
    EXPORTER_INGESTION_ADDRESS: peers,
    EXPORTER_DOWNLOAD_PORT: '0',
    EXPORTER_SYNC_INTERVAL_MS: '100',
    EXPORTER_BATCH_MAX_WAIT_MS: '300',
    EXPORTER_RETRY_BASE_MS: '20',
    EXPORTER_RETRY_MAX_MS: '100',
    EXPORTER_WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
    ...extra,
  };
}
