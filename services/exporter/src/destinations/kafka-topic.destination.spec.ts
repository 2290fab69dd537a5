import { create } from '@bufbuild/protobuf';
import { KafkaTopicDestinationSchema } from '@shoal/contracts';
import { KafkaTopicDestinationKind } from './kafka-topic.destination';

const kind = new KafkaTopicDestinationKind();
const config = (init: Parameters<typeof create<typeof KafkaTopicDestinationSchema>>[1]) =>
  create(KafkaTopicDestinationSchema, init);

describe('Kafka topic destinations', () => {
  it('names each bad field of a configuration', () => {
    const problems = kind.validate(
      config({ brokers: ['no-port'], topic: 'bad topic!', saslMechanism: 'gssapi', batchSize: -1 }),
      undefined,
    );
    expect(problems.map((p) => p.field)).toEqual([
      'config.kafkaTopic.brokers',
      'config.kafkaTopic.topic',
      'config.kafkaTopic.saslMechanism',
      'config.kafkaTopic.saslUsername',
      'config.kafkaTopic.saslPassword',
      'config.kafkaTopic.batchSize',
    ]);
  });

  it('keeps the stored SASL password when an update leaves it empty, and never shows it', () => {
    const stored = kind.normalised(
      config({
        brokers: ['k:9092'],
        topic: 't',
        saslMechanism: 'scram-sha-512',
        saslUsername: 'shoal',
        saslPassword: 'p4ssw0rd-secret',
      }),
      undefined,
    );
    const update = config({
      brokers: ['k:9093'],
      topic: 't',
      saslMechanism: 'scram-sha-512',
      saslUsername: 'shoal',
    });
    expect(kind.validate(update, stored)).toEqual([]);
    const kept = kind.normalised(update, stored);
    expect(kept.saslPassword).toBe('p4ssw0rd-secret');
    expect(kind.secrets(kept)).toEqual(['p4ssw0rd-secret']);
    expect(kind.redacted(kept)).toMatchObject({ saslPassword: '', saslPasswordSet: true });
  });

  it('drops credentials when SASL is turned off', () => {
    const plain = kind.normalised(
      config({ brokers: ['k:9092'], topic: 't', saslUsername: 'x', saslPassword: 'y-secret' }),
      undefined,
    );
    expect(plain).toMatchObject({ saslUsername: '', saslPassword: '', saslPasswordSet: false });
  });
});
