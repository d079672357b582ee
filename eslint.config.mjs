// Lint rules that carry the architecture: no `any` in domain code, short workflow functions, and tables
// named only in db/ (the import direction itself is checked by dependency-cruiser: .dependency-cruiser.cjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// A knex query names its table as the first argument of the handle: tx('shipments'), db('sales_orders').
const TABLE_QUERY = {
  selector: "CallExpression[callee.type='Identifier'][callee.name=/^(tx|trx|db|knex|t)$/][arguments.0.type='Literal']",
  message: 'Only db/<domain>.ts names tables: call a function of the db module that owns this table.',
};
const TABLE_QUERY_VIA_MEMBER = {
  selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='db'][arguments.0.type='Literal']",
  message: 'Only db/<domain>.ts names tables: call a function of the db module that owns this table.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'coverage/**',
      '.data/**',
      '.tmp/**',
      'tests/fixtures/**',
      'console/dist/**',
      'console/src/schema.d.ts',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Tests and tools may poke at tables directly to set up and check what they need.
    files: [
      'activities/**/*.ts',
      'api/**/*.ts',
      'workflows/**/*.ts',
      'workers/**/*.ts',
      'lib/**/*.ts',
      'contracts/**/*.ts',
    ],
    rules: { 'no-restricted-syntax': ['error', TABLE_QUERY, TABLE_QUERY_VIA_MEMBER] },
  },
  {
    // A process reads as a story: each chapter is a short function (issue 13: none over ~80 lines).
    files: ['workflows/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['tests/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
