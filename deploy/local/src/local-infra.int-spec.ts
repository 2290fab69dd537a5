import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { LocalInfraErrorCode } from './errors';
import { startKafka } from './kafka';
import { LocalInfra } from './local-infra';
import { freePort } from './ports';
import type { ManagedProcess } from './processes';

describe('LocalInfra on its own home folder', () => {
  let home: string;
  let squatter: net.Server | undefined;

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-home-'));
  });

  afterEach(async () => {
    await new Promise((resolve) => (squatter ? squatter.close(resolve) : resolve(undefined)));
    squatter = undefined;
    fs.rmSync(home, { recursive: true, force: true });
  });

  async function ports() {
    return {
      kafkaPort: await freePort(),
      kafkaControllerPort: await freePort(),
      mongoPort: await freePort(),
    };
  }

  it('reports nothing running and cleans up a pid file left by a process that is gone', async () => {
    fs.mkdirSync(path.join(home, 'run'));
    fs.writeFileSync(path.join(home, 'run', 'mongo.pid'), `${2 ** 22 + 1}\n`);
    const infra = new LocalInfra({ home, ...(await ports()) });

    const statuses = await infra.status();

    expect(
      statuses.map(({ component, running, ready }) => ({ component, running, ready })),
    ).toEqual([
      { component: 'kafka', running: false, ready: false },
      { component: 'mongo', running: false, ready: false },
    ]);
    expect(fs.existsSync(path.join(home, 'run', 'mongo.pid'))).toBe(false);
    expect(infra.processes()).toEqual([
      { component: 'kafka', running: false },
      { component: 'mongo', running: false },
    ]);
  });

  it('refuses to start on a port another process listens on, before provisioning anything', async () => {
    const options = await ports();
    squatter = net.createServer().listen(options.mongoPort, '127.0.0.1');
    await new Promise((resolve) => squatter?.once('listening', resolve));
    const infra = new LocalInfra({ home, ...options });

    await expect(infra.up()).rejects.toMatchObject({
      code: LocalInfraErrorCode.PortInUse,
      message: expect.stringContaining(`127.0.0.1:${options.mongoPort} is already in use`),
    });
    const status = (await infra.status()).find(({ component }) => component === 'mongo');
    expect(status?.detail).toContain('in use by a process not started by shoal');
    expect(fs.existsSync(path.join(home, 'cache'))).toBe(false);
  });
});

describe('a dedicated Kafka broker', () => {
  let dir: string;
  let broker: ManagedProcess | undefined;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-dedicated-kafka-'));
  });

  afterAll(async () => {
    await broker?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its topics and messages across a restart on the same data folder', async () => {
    const options = {
      port: await freePort(),
      controllerPort: await freePort(),
      dataDir: path.join(dir, 'kafka'),
      logFile: path.join(dir, 'kafka.log'),
    };
    const kafka = new Kafka({
      clientId: 'local-infra-int-spec',
      brokers: [`127.0.0.1:${options.port}`],
      logLevel: logLevel.WARN,
    });
    const topic = 'restart-check';

    broker = await startKafka(options);
    const clusterId = fs.readFileSync(
      path.join(options.dataDir, 'kraft-combined-logs', 'meta.properties'),
      'utf8',
    );
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'before restart' }] });
    await producer.disconnect();
    await broker.kill();

    broker = await startKafka(options);
    const consumer = kafka.consumer({ groupId: 'restart-check' });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const value = await new Promise<string | undefined>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString()) });
    });
    await consumer.disconnect();

    expect(value).toBe('before restart');
    expect(
      fs.readFileSync(path.join(options.dataDir, 'kraft-combined-logs', 'meta.properties'), 'utf8'),
    ).toBe(clusterId);
  });
});
