import { DEFAULT_PORTS, endpointsFor, resolvePorts } from './config';
import { LocalInfraErrorCode } from './errors';

describe('resolvePorts', () => {
  it('uses 19092, 19093 and 27027 when nothing is configured', () => {
    expect(resolvePorts({}, {})).toEqual({ kafka: 19092, kafkaController: 19093, mongo: 27027 });
    expect(DEFAULT_PORTS).toEqual(resolvePorts({}, {}));
  });

  it('takes ports from SHOAL_KAFKA_PORT, SHOAL_KAFKA_CONTROLLER_PORT and SHOAL_MONGO_PORT', () => {
    const env = {
      SHOAL_KAFKA_PORT: '29092',
      SHOAL_KAFKA_CONTROLLER_PORT: '29093',
      SHOAL_MONGO_PORT: '29027',
    };
    expect(resolvePorts({}, env)).toEqual({ kafka: 29092, kafkaController: 29093, mongo: 29027 });
  });

  it('lets explicit options win over the environment', () => {
    expect(resolvePorts({ mongo: 4000 }, { SHOAL_MONGO_PORT: '29027' }).mongo).toBe(4000);
  });

  it('ignores an empty environment variable', () => {
    expect(resolvePorts({}, { SHOAL_KAFKA_PORT: '' }).kafka).toBe(19092);
  });

  it.each(['abc', '0', '65536', '19092.5', '-1'])(
    'rejects %s as a port and names the variable',
    (value) => {
      expect(() => resolvePorts({}, { SHOAL_KAFKA_PORT: value })).toThrow(
        expect.objectContaining({
          code: LocalInfraErrorCode.InvalidConfig,
          message: expect.stringContaining('SHOAL_KAFKA_PORT'),
        }),
      );
    },
  );

  it('rejects two components on the same port', () => {
    expect(() => resolvePorts({ kafka: 5000, mongo: 5000 }, {})).toThrow(/must differ/);
  });
});

describe('endpointsFor', () => {
  it('points clients at loopback, the store with a direct connection', () => {
    expect(endpointsFor({ kafka: 1, kafkaController: 2, mongo: 3 })).toEqual({
      kafkaBrokers: ['127.0.0.1:1'],
      mongoUrl: 'mongodb://127.0.0.1:3/?directConnection=true',
    });
  });
});
