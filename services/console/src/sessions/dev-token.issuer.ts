import { Inject, Injectable } from '@nestjs/common';
import {
  PLATFORM,
  type PlatformContext,
  type SigningKey,
  loadSigningKey,
  signToken,
} from '@shoal/platform';
import type { ConsoleConfig } from '../service';
import type { TokenIssuerPort } from './token-issuer.port';

/**
 * Signs development user tokens with the development user key, exactly as `./shoal token`
 * does; the services verify them against AUTH_JWKS_FILE like any identity provider's.
 */
@Injectable()
export class DevTokenIssuer implements TokenIssuerPort {
  private key?: Promise<SigningKey>;

  private readonly config: ConsoleConfig;

  constructor(@Inject(PLATFORM) private readonly platform: PlatformContext) {
    this.config = platform.config as ConsoleConfig;
  }

  async issue(request: {
    subject: string;
    groups: readonly string[];
    ttlSeconds: number;
    now: Date;
  }): Promise<string> {
    const file = this.config.CONSOLE_DEV_SIGNING_KEY_FILE;
    if (!file) throw new Error('CONSOLE_DEV_SIGNING_KEY_FILE is not set');
    this.key ??= loadSigningKey(file, 'CONSOLE_DEV_SIGNING_KEY_FILE').then((key) => {
      // the private key's parameters never reach a log line
      key.secretParts.forEach((part) => this.platform.secrets.add(part));
      return key;
    });
    return signToken(await this.key, {
      subject: request.subject,
      groups: request.groups,
      issuer: this.config.AUTH_ISSUER,
      audience: this.config.AUTH_AUDIENCE,
      ttlSeconds: request.ttlSeconds,
      now: request.now,
    });
  }
}
