import { join } from 'node:path';
import { CONSOLE_WEB_PORT, LocalInfra, LocalServices } from '@shoal/local-infra';
import {
  devKeyEnv,
  SERVICE_SUBJECT_PREFIX,
  SERVICE_TOKEN_TTL_SECONDS,
  ensureDevKeys,
  loadSigningKey,
  signToken,
} from '@shoal/platform';

/** The group whose users may read single profiles in a local Shoal (PROFILE_READER_GROUPS). */
export const PROFILE_READER_GROUP = 'profile-readers';
/** The group whose users may send events and tag profiles in a local Shoal (PROFILE_WRITER_GROUPS). */
export const PROFILE_WRITER_GROUP = 'profile-writers';
/** The groups of the development user the service commands act as, unless SHOAL_TOKEN is set. */
export const DEVELOPER_GROUPS = ['marketing', PROFILE_READER_GROUP, PROFILE_WRITER_GROUP];

/** The pieces of a local Shoal: infrastructure, development keys, the five services and the console. */
export class LocalStack {
  readonly infra: LocalInfra;
  readonly services: LocalServices;

  constructor(log: (line: string) => void) {
    this.infra = new LocalInfra({ log });
    this.services = new LocalServices({ log });
  }

  get keysDir(): string {
    return join(this.infra.home, 'keys');
  }

  /** Configuration every local service gets. */
  async serviceEnv(): Promise<Record<string, string>> {
    const keys = await ensureDevKeys(this.keysDir);
    const { kafkaBrokers, mongoUrl } = this.infra.endpoints;
    return {
      SHOAL_ENV: 'development',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      KAFKA_BROKERS: kafkaBrokers.join(','),
      KAFKA_PARTITIONS: '3',
      MONGO_URL: mongoUrl,
      ...devKeyEnv(keys),
      PROFILE_READER_GROUPS: PROFILE_READER_GROUP,
      PROFILE_WRITER_GROUPS: PROFILE_WRITER_GROUP,
      // the console offers the development sign-in, signing with the key `./shoal token` uses
      CONSOLE_PORT: String(CONSOLE_WEB_PORT),
      CONSOLE_DEV_SIGN_IN: 'true',
      CONSOLE_DEV_SIGNING_KEY_FILE: keys.userSigningKeyFile,
    };
  }

  /** A user token signed with the development user key, as an identity provider would issue it. */
  async token(subject: string, groups: readonly string[], ttlSeconds: number): Promise<string> {
    const keys = await ensureDevKeys(this.keysDir);
    return signToken(await loadSigningKey(keys.userSigningKeyFile), {
      subject,
      groups,
      issuer: 'shoal',
      audience: 'shoal',
      ttlSeconds,
      now: new Date(),
    });
  }

  /** A service token signed with the development service key, as a service mints it. */
  async serviceToken(service: string): Promise<string> {
    const keys = await ensureDevKeys(this.keysDir);
    return signToken(await loadSigningKey(keys.serviceSigningKeyFile), {
      subject: `${SERVICE_SUBJECT_PREFIX}${service}`,
      service,
      issuer: 'shoal-service',
      audience: 'shoal',
      ttlSeconds: SERVICE_TOKEN_TTL_SECONDS,
      now: new Date(),
    });
  }
}
