import { DEFAULT_PORTS } from '@shoal/local-infra';
import { Command, InvalidArgumentError, Option } from 'commander';

/** A whole number above 0, its digits optionally grouped by `_` (20_000). */
export function positiveWhole(value: string): number {
  const digits = value.replaceAll('_', '');
  if (!/^[1-9]\d*$/.test(digits))
    throw new InvalidArgumentError('It must be a positive whole number.');
  return Number(digits);
}

/** A whole number, 0 or above (`0` switches a phase off). */
export function wholeOrZero(value: string): number {
  return value.replaceAll('_', '') === '0' ? 0 : positiveWhole(value);
}

/** A bench's command line: after --help it exits 0, after a bad option 2. */
export function benchCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
}

/** --kafka of a running broker: KAFKA_BROKERS, else the one `./shoal infra up` starts. */
export function runningKafkaOption(): Option {
  return new Option('--kafka <host:port>', 'brokers').default(
    process.env.KAFKA_BROKERS ?? `127.0.0.1:${DEFAULT_PORTS.kafka}`,
  );
}

/** --mongo of a running store: MONGO_URL, else the one `./shoal infra up` starts. */
export function runningMongoOption(): Option {
  return new Option('--mongo <url>', 'the store').default(
    process.env.MONGO_URL ?? `mongodb://127.0.0.1:${DEFAULT_PORTS.mongo}/?directConnection=true`,
  );
}
