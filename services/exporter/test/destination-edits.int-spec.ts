import { ExportService, FileFormat } from '@shoal/contracts';
import type { GrpcClient } from '@shoal/platform';
import { TestScope } from '@shoal/testing';
import { exporterService } from '../src/service';
import { PeerStubs } from './peer-stubs';

jest.setTimeout(60_000);

describe('editing a destination, stored in the real store', () => {
  const scope = new TestScope();
  const stubs = new PeerStubs(
    () => 0,
    () => undefined,
  );
  let ann: GrpcClient<typeof ExportService>;

  beforeAll(async () => {
    const peers = await stubs.start();
    const exporter = await scope.start(exporterService, {
      EXPORTER_MEMBERSHIP_ADDRESS: peers,
      EXPORTER_INGESTION_ADDRESS: peers,
      EXPORTER_SEGMENTS_ADDRESS: peers,
      EXPORTER_DOWNLOAD_PORT: '0',
      EXPORTER_FILE_ROOT: '/tmp',
    });
    ann = scope.client(ExportService, exporter, await scope.token({ subject: 'ann' }));
  });
  afterAll(async () => {
    await scope.close();
    await stubs.stop();
  });

  it('renames a webhook and changes its batch size, keeping the signing secret it was not sent again', async () => {
    const { destination: created } = await ann.createDestination({
      name: 'Nightly',
      config: {
        kind: {
          case: 'webhook',
          value: { url: 'https://93.184.215.14/in', signingSecret: 'whsec-0123456789abcdef' },
        },
      },
    });
    const { destination: updated } = await ann.updateDestination({
      destinationId: created?.id ?? '',
      expectedVersion: 1n,
      name: 'Hourly',
      config: {
        kind: { case: 'webhook', value: { url: 'https://93.184.215.14/in', batchSize: 50 } },
      },
    });
    const { destination: read } = await ann.getDestination({ destinationId: created?.id ?? '' });
    for (const destination of [updated, read]) {
      expect({
        name: destination?.name,
        version: destination?.version,
        kind: destination?.config?.kind.case,
        batchSize:
          destination?.config?.kind.case === 'webhook' && destination.config.kind.value.batchSize,
        secretSet:
          destination?.config?.kind.case === 'webhook' &&
          destination.config.kind.value.signingSecretSet,
      }).toEqual({ name: 'Hourly', version: 2n, kind: 'webhook', batchSize: 50, secretSet: true });
    }
  });

  it('turns a file destination into a webhook', async () => {
    const { destination: created } = await ann.createDestination({
      name: 'Drop',
      config: { kind: { case: 'file', value: { directory: '/tmp', format: FileFormat.CSV } } },
    });
    const { destination: updated } = await ann.updateDestination({
      destinationId: created?.id ?? '',
      expectedVersion: 1n,
      name: 'Drop',
      config: {
        kind: {
          case: 'webhook',
          value: { url: 'https://93.184.215.14/in', signingSecret: 'whsec-0123456789abcdef' },
        },
      },
    });
    expect(updated?.config?.kind.case).toBe('webhook');
  });
});
