import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', '.build-*/**', 'node_modules/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Libraries never import applications: dependencies point one way.
    files: ['libs/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/apps/**'] }] },
  },
  {
    // The protocol is the bottom layer: the wire format every process shares, importing no other lib.
    files: ['libs/protocol/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/apps/**', '@resnet/*'] }] },
  },
  {
    // Tests drive the apps and libs; a benchmark is nothing a test should depend on.
    files: ['test/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/bench/**'] }] },
  },
  // An app never imports another app's code: what they share lives in libs/.
  ...['aggregator', 'cli', 'coordinator', 'worker'].map((app) => ({
    files: [`apps/${app}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: ['aggregator', 'cli', 'coordinator', 'worker']
            .filter((a) => a !== app)
            .map((a) => `**/${a}/src/**`),
        },
      ],
    },
  })),
  {
    // Tests and benchmarks read JSON responses of the REST API they exercise; typing every body adds nothing.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Node scripts run outside the TypeScript build.
    files: ['scripts/**/*.{js,mjs}', 'bin/**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    // The dashboard: plain ES modules run by the browser, with Chart.js as a global script.
    files: ['apps/coordinator/public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: { ...globals.browser, Chart: 'readonly', tf: 'readonly' },
    },
  },
);
