import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

const depConstraints = [
  // services never import each other; tests of a service may use the testing lib
  { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib', 'type:test-lib'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:infra'] },
  // end-to-end tests drive the built services as processes, never import them
  {
    sourceTag: 'type:e2e',
    onlyDependOnLibsWithTags: ['type:lib', 'type:test-lib', 'type:infra'],
  },
  { sourceTag: 'type:test-lib', onlyDependOnLibsWithTags: ['type:lib', 'type:infra'] },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'scope:pure', onlyDependOnLibsWithTags: ['scope:pure'] },
];

const boundaries = (constraints) => ({
  enforceBuildableLibDependency: false,
  allow: [],
  depConstraints: constraints,
});

const adapterOnly = (name, where) => ({
  name,
  message: `Domain logic does not use ${name}: ${where}.`,
});

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      '.nx/**',
      '.shoal/**',
      'libs/contracts/src/gen/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(depConstraints)],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // domain logic reaches the store, Kafka and the wire only through ports and adapters
    files: ['services/**/*.service.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            adapterOnly('mongodb', 'the store is behind a repository port (*.repository.port.ts)'),
            adapterOnly('kafkajs', 'publishing is behind a port, done by a relay or consumer'),
            adapterOnly('@grpc/grpc-js', 'the wire is translated in *.grpc.ts adapters'),
          ],
          patterns: [
            {
              group: ['mongodb/*', 'kafkajs/*', '@grpc/grpc-js/*'],
              message: 'Domain logic uses no driver, client or server library.',
            },
            {
              group: ['*.mongo-repository'],
              message: 'Inject the repository port by its token, not its MongoDB implementation.',
            },
          ],
        },
      ],
    },
  },
  {
    // what a service runs never carries test code: the testing lib is for its tests only
    files: ['services/*/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        boundaries(
          depConstraints.map((c) =>
            c.sourceTag === 'type:service' ? { ...c, onlyDependOnLibsWithTags: ['type:lib'] } : c,
          ),
        ),
      ],
    },
  },
  {
    // a tool's integration tests run it against real infrastructure, as the services' tests do
    files: ['tools/*/test/**/*.int-spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        boundaries(
          depConstraints.map((c) =>
            c.sourceTag === 'type:tool'
              ? { ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'type:test-lib'] }
              : c,
          ),
        ),
      ],
    },
  },
  {
    // scripts run by node directly (reporters, benchmarks, measurements)
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
