import * as fs from 'node:fs';
import * as path from 'node:path';
import { ASSETS } from './layout';

/** Fills `{{NAME}}` placeholders; a placeholder without a value is a bug in the caller, not a blank. */
export function renderTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for template placeholder {{${name}}}`);
    return String(value);
  });
}

export interface KafkaNodeConfig {
  port: number;
  controllerPort: number;
  /** The folder that holds this broker's rendered config and its log segments. */
  dataDir: string;
}

/** Kafka's name for the folder of partition logs and KRaft metadata, as in its quickstart. */
export function kafkaLogDir(dataDir: string): string {
  return path.join(dataDir, 'kraft-combined-logs');
}

export function kafkaServerPropertiesFile(dataDir: string): string {
  return path.join(dataDir, 'server.properties');
}

export function renderKafkaServerProperties(
  config: KafkaNodeConfig,
  template: string = fs.readFileSync(ASSETS.kafkaServerProperties, 'utf8'),
): string {
  return renderTemplate(template, {
    KAFKA_PORT: config.port,
    CONTROLLER_PORT: config.controllerPort,
    LOG_DIRS: kafkaLogDir(config.dataDir),
  });
}

/** StorageTool writes meta.properties last, so its presence means the format completed. */
export function isKafkaStorageFormatted(dataDir: string): boolean {
  return fs.existsSync(path.join(kafkaLogDir(dataDir), 'meta.properties'));
}
