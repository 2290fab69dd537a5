import * as fs from 'node:fs';
import * as path from 'node:path';
import { ASSETS, REPO_ROOT, infraLayout, resolveHome } from './layout';

describe('resolveHome', () => {
  it('defaults to .shoal at the repository root', () => {
    expect(resolveHome(undefined, {})).toBe(path.join(REPO_ROOT, '.shoal'));
    expect(fs.existsSync(path.join(REPO_ROOT, 'deploy', 'local', 'package.json'))).toBe(true);
  });

  it('follows SHOAL_HOME, made absolute', () => {
    expect(resolveHome(undefined, { SHOAL_HOME: '/srv/shoal' })).toBe('/srv/shoal');
    expect(resolveHome(undefined, { SHOAL_HOME: 'rel/home' })).toBe(path.resolve('rel/home'));
  });

  it('prefers an explicit home over SHOAL_HOME', () => {
    expect(resolveHome('/explicit', { SHOAL_HOME: '/srv/shoal' })).toBe('/explicit');
  });
});

describe('infraLayout', () => {
  const layout = infraLayout('/h');

  it('caches jars per component and version', () => {
    expect(layout.jarDir('kafka')).toBe('/h/cache/kafka-3.9.1');
    expect(layout.jarDir('mongo')).toBe('/h/cache/mongo-java-server-1.47.0');
  });

  it('keeps data, pid files and logs in their own folders', () => {
    expect(layout.kafkaDataDir).toBe('/h/data/kafka');
    expect(layout.mongoDataFile).toBe('/h/data/mongo/shoal.mv');
    expect(layout.pidFile('kafka')).toBe('/h/run/kafka.pid');
    expect(layout.lockDir).toBe('/h/run/infra.lock');
    expect(layout.logFile('mongo')).toBe('/h/logs/mongo.log');
  });
});

describe('ASSETS', () => {
  it('points at files that exist in the checkout', () => {
    for (const file of Object.values(ASSETS)) expect(fs.existsSync(file)).toBe(true);
  });
});
