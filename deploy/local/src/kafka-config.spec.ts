import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  isKafkaStorageFormatted,
  kafkaLogDir,
  renderKafkaServerProperties,
  renderTemplate,
} from './kafka-config';

function parseProperties(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line): [string, string] => {
      const separator = line.indexOf('=');
      return [line.slice(0, separator), line.slice(separator + 1)];
    });
  return new Map(entries);
}

describe('renderTemplate', () => {
  it('fills every occurrence of a placeholder', () => {
    expect(renderTemplate('a={{PORT}} b={{PORT}} c={{DIR}}', { PORT: 1, DIR: '/x' })).toBe(
      'a=1 b=1 c=/x',
    );
  });

  it('fails on a placeholder without a value instead of leaving it in the output', () => {
    expect(() => renderTemplate('a={{MISSING}}', {})).toThrow('{{MISSING}}');
  });
});

describe('renderKafkaServerProperties', () => {
  const properties = parseProperties(
    renderKafkaServerProperties({ port: 29092, controllerPort: 29093, dataDir: '/data/kafka' }),
  );

  it('runs broker and controller in one process with itself as the only voter', () => {
    expect(properties.get('process.roles')).toBe('broker,controller');
    expect(properties.get('node.id')).toBe('1');
    expect(properties.get('controller.quorum.voters')).toBe('1@127.0.0.1:29093');
    expect(properties.get('controller.listener.names')).toBe('CONTROLLER');
  });

  it('listens and advertises on loopback only', () => {
    expect(properties.get('listeners')).toBe(
      'PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093',
    );
    expect(properties.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:29092');
  });

  it('keeps the partition logs inside the data folder', () => {
    expect(properties.get('log.dirs')).toBe(kafkaLogDir('/data/kafka'));
    expect(kafkaLogDir('/data/kafka')).toBe(path.join('/data/kafka', 'kraft-combined-logs'));
  });

  it('gives internal topics a single replica so one broker can serve groups and transactions', () => {
    expect(properties.get('offsets.topic.replication.factor')).toBe('1');
    expect(properties.get('transaction.state.log.replication.factor')).toBe('1');
    expect(properties.get('transaction.state.log.min.isr')).toBe('1');
  });

  it('lets consumers join at once, refuses implicit topics and allows deleting topics', () => {
    expect(properties.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(properties.get('auto.create.topics.enable')).toBe('false');
    expect(properties.get('delete.topic.enable')).toBe('true');
    expect(properties.get('num.partitions')).toBe('1');
  });

  it('leaves no placeholder behind', () => {
    expect([...properties.values()].join('\n')).not.toContain('{{');
  });
});

describe('isKafkaStorageFormatted', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-kafka-config-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('is false for a new data folder and after a format that stopped before meta.properties', () => {
    expect(isKafkaStorageFormatted(dataDir)).toBe(false);
    fs.mkdirSync(kafkaLogDir(dataDir));
    fs.writeFileSync(path.join(kafkaLogDir(dataDir), 'bootstrap.checkpoint'), '');
    expect(isKafkaStorageFormatted(dataDir)).toBe(false);
  });

  it('is true once meta.properties exists', () => {
    fs.mkdirSync(kafkaLogDir(dataDir));
    fs.writeFileSync(path.join(kafkaLogDir(dataDir), 'meta.properties'), 'node.id=1\n');
    expect(isKafkaStorageFormatted(dataDir)).toBe(true);
  });
});
