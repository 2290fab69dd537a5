import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { LOGGER, type Logger, retry } from '@shoal/platform';
import { StaticListsService } from './static-lists.service';

/** How long one page may keep failing (the store unreachable) before the run gives up. */
const PAGE_TIMEOUT_MS = 120_000;

/**
 * After start-up, in the background, brings every static list's kept member count up to its
 * committed members (StaticListsService.reconcileMemberCounts), page by page: lists kept before
 * counts were, and a count a process died before keeping. Readiness never waits for it; a page
 * the store keeps failing ends the run with an error logged, and the next start runs it again.
 */
@Injectable()
export class ListCountsReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly stopping = new AbortController();
  private running?: Promise<void>;

  constructor(
    private readonly lists: StaticListsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = this.reconcile().catch((error: unknown) => {
      if (!this.stopping.signal.aborted)
        this.logger.error({ err: error }, 'static list member counts not reconciled');
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort(new Error('shutting down'));
    await this.running;
  }

  private async reconcile(): Promise<void> {
    let reconciled = 0;
    let after: string | undefined = '';
    while (after !== undefined) {
      const afterId: string = after;
      const page = await retry(() => this.lists.reconcileMemberCounts(afterId), {
        timeoutMs: PAGE_TIMEOUT_MS,
        delayMs: 250,
        maxDelayMs: 5_000,
        signal: this.stopping.signal,
        onRetry: ({ error, attempt }) =>
          this.logger.warn(
            { err: error, attempt, afterId },
            'reconciling static list member counts failed; retrying',
          ),
      });
      reconciled += page.reconciled;
      after = page.next;
    }
    this.logger.info({ reconciled }, 'static list member counts reconciled');
  }
}
