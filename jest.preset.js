// Shared jest settings. Every project's jest config calls one of these with its own directory,
// so unit tests and integration tests are configured in exactly one place.
const path = require('node:path');
const fs = require('node:fs');

const root = __dirname;
const swcrc = JSON.parse(fs.readFileSync(path.join(root, '.swcrc'), 'utf8'));

// Dependencies published only as ES modules. Node >= 20.19 require()s them from our CommonJS
// build, but jest on Node 20 cannot, so it compiles them to CommonJS like our own code.
const esmOnly = ['p-retry', 'is-network-error'];
const esmOnlyFiles = `/node_modules/(${esmOnly.join('|')})/.+\\.js$`;

function base(projectDir) {
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    transform: {
      '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false, sourceMaps: 'inline' }],
      [esmOnlyFiles]: [
        '@swc/jest',
        { ...swcrc, swcrc: false, jsc: { ...swcrc.jsc, parser: { syntax: 'ecmascript' } } },
      ],
    },
    transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
    moduleFileExtensions: ['ts', 'js', 'json'],
    moduleNameMapper: {
      '^@shoal/local-infra$': path.join(root, 'deploy/local/src/index.ts'),
      '^@shoal/rules/testing$': path.join(root, 'libs/rules/src/testing/index.ts'),
      '^@shoal/([a-z-]+)$': path.join(root, 'libs/$1/src/index.ts'),
    },
    testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  };
}

function reporters(projectDir, kind) {
  return ['default', [path.join(root, 'tools/jest/results-reporter.js'), { projectDir, kind }]];
}

/** Fast tests of pure code: no network, no processes. */
function unitConfig(projectDir) {
  return {
    ...base(projectDir),
    displayName: `${path.basename(projectDir)}:unit`,
    testMatch: ['<rootDir>/src/**/*.spec.ts'],
    reporters: reporters(projectDir, 'unit'),
  };
}

/** Tests against real Kafka and the real MongoDB-compatible server (see libs/testing). */
function integrationConfig(projectDir) {
  return {
    ...base(projectDir),
    displayName: `${path.basename(projectDir)}:integration`,
    testMatch: ['<rootDir>/{src,test}/**/*.int-spec.ts'],
    globalSetup: path.join(root, 'libs/testing/src/jest/global-setup.ts'),
    globalTeardown: path.join(root, 'libs/testing/src/jest/global-teardown.ts'),
    testTimeout: 120_000,
    maxWorkers: 2,
    reporters: reporters(projectDir, 'integration'),
  };
}

module.exports = { unitConfig, integrationConfig };
