/**
 * The import direction is the architecture (README, "The house"):
 *
 *   scripts, bench, tests  →  api, workers  →  workflows  →  activities  →  db  →  lib  →  contracts
 *
 * contracts/ holds the domain's words (types, messages, search attributes, roles, workflow ids) and imports
 * nothing of ours. Workflows run in Temporal's sandbox: they may take activities' *types* (to call them) but
 * no runtime code from below contracts/ and their own folder. `npm run lint:imports` checks these rules.
 */
const layer = (name, mayImport) => ({ name, path: `^${name}/`, mayImport });
const LAYERS = [
  layer('contracts', ['contracts']),
  layer('lib', ['lib', 'contracts']),
  layer('db', ['db', 'lib', 'contracts']),
  layer('activities', ['activities', 'db', 'lib', 'contracts']),
  layer('workflows', ['workflows', 'contracts']),
  layer('workers', ['workers', 'workflows', 'activities', 'db', 'lib', 'contracts']),
  layer('api', ['api', 'workflows', 'db', 'lib', 'contracts']),
];
const OURS = ['contracts', 'lib', 'db', 'activities', 'workflows', 'workers', 'api', 'scripts', 'bench', 'tests'];

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'A cycle means two rooms hold each other up: split the shared part into the lower one.',
      from: {},
      to: { circular: true },
    },
    ...LAYERS.map(({ name, path, mayImport }) => ({
      name: `${name}-imports-down`,
      severity: 'error',
      comment: `${name}/ may import only ${mayImport.join(', ')} of ours: nothing above it.`,
      from: { path },
      to: {
        path: `^(${OURS.filter((o) => !mayImport.includes(o)).join('|')})/`,
        // Workflows call activities through a typed proxy: a type-only import of activities/ is the arrow down.
        ...(name === 'workflows' ? { pathNot: '^activities/', dependencyTypesNot: [] } : {}),
      },
    })),
    {
      name: 'workflows-take-only-activity-types',
      severity: 'error',
      comment: 'Workflow code is bundled into the sandbox: import activities only with `import type`.',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|coverage|\\.data|\\.tmp)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
