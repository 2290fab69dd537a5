import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevKeys } from '../auth/token-signer';
import { serviceConfigSchema } from '../config/service-config';
import { type MainProcess, runMain } from './bootstrap';

const definition = {
  name: 'demo',
  version: '0',
  configSchema: serviceConfigSchema({ service: 'demo', grpcPort: 0, httpPort: 0 }, {}),
  topics: [],
  features: [],
};

/** A process whose signals the test sends, and whose exit it waits for. */
class TestProcess extends EventEmitter implements MainProcess {
  stderrText = '';
  readonly stderr = { write: (text: string) => (this.stderrText += text) };
  readonly exited: Promise<number>;
  private exitWith: (code: number) => void = () => undefined;

  constructor(readonly env: Record<string, string>) {
    super();
    this.exited = new Promise((resolve) => (this.exitWith = resolve));
  }

  exit(code: number): void {
    this.exitWith(code);
  }
}

describe('runMain', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-run-main-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A service whose start-up waits for a store nobody serves (it gives up after minutes). */
  async function waitingForItsStore(): Promise<TestProcess> {
    const keys = await ensureDevKeys(dir);
    const main = new TestProcess({
      SHOAL_ENV: 'development',
      LOG_LEVEL: 'fatal',
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      KAFKA_BROKERS: '127.0.0.1:1',
      MONGO_URL: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=60000',
      AUTH_JWKS_FILE: keys.userJwksFile,
      SERVICE_TOKEN_JWKS_FILE: keys.serviceJwksFile,
      SERVICE_TOKEN_KEY_FILE: keys.serviceSigningKeyFile,
      PAGE_TOKEN_SECRET_FILE: keys.pageTokenSecretFile,
    });
    runMain(definition, main);
    // the operations endpoint is up (and the store being waited for) once readiness answers
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return main;
  }

  it('stops cleanly, exiting 0, when SIGTERM comes while start-up still waits for a dependency', async () => {
    const main = await waitingForItsStore();
    main.emit('SIGTERM');
    expect(await main.exited).toBe(0);
    expect(main.stderrText).toContain('stopped during start-up (SIGTERM)');
  });

  it('exits at once, with 1, on a second signal while the first is being handled', async () => {
    const main = await waitingForItsStore();
    main.emit('SIGINT');
    main.emit('SIGINT');
    expect(await main.exited).toBe(1);
    expect(main.stderrText).toContain('second SIGINT');
  });
});
