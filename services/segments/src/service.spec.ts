import { ConfigError, loadConfig } from '@shoal/platform';
import { segmentsConfigSchema } from './service';

describe('segments configuration', () => {
  const env = {
    KAFKA_BROKERS: '127.0.0.1:9092',
    MONGO_URL: 'mongodb://127.0.0.1:27017',
    AUTH_JWKS_FILE: '/keys/jwks.json',
    PAGE_TOKEN_SECRET_FILE: '/keys/page-token-secret',
  };

  it('keeps definitions within what the definitions topic carries', () => {
    expect(loadConfig(segmentsConfigSchema, env).SEGMENT_DEFINITION_MAX_BYTES).toBe(262_144);
    const load = () =>
      loadConfig(segmentsConfigSchema, {
        ...env,
        KAFKA_MAX_MESSAGE_BYTES: '1048576',
        SEGMENT_DEFINITION_MAX_BYTES: '1048576',
      });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/SEGMENT_DEFINITION_MAX_BYTES: must be at most .* = 1032192/);
  });
});
