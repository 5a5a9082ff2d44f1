// Lint enforces the layering: src/shared runs anywhere (no electron, node or DOM), the renderer imports only
// src/shared and browser libraries, and only the Electron shell touches `electron`; inside src/main and src/renderer,
// feature folders import low folders, never each other.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const nodeOnlyPackages = ['ssh2', 'dockerode', 'docker-modem', 'ws', 'commander', 'electron', 'electron-builder'];

// src/main: each feature folder imports shared pieces from the low folders, never another feature's files; only the
// composition root (app-services.ts) lists the feature registrations; the CLI calls the router, never a service.
const mainFeatures = [
  'app',
  'checkpoints',
  'datasets',
  'experiments',
  'integrity',
  'leaderboard',
  'live',
  'monitor',
  'replay',
  'trajectory',
];
const mainLow = ['catalog', 'docker', 'host-package', 'hosts', 'rpc', 'runs', 'secrets', 'services', 'slurm', 'ssh'];
const mainShells = ['cli', 'electron', 'transports', 'app-services'];
const folderImports = (folders) => folders.flatMap((f) => [`../${f}`, `../${f}/**`]);
const registrationsInRootOnly = {
  group: ['**/*-feature'],
  message: 'Only the composition root (src/main/app-services.ts) lists the feature registrations.',
};
const mainFolderRules = (folder, patterns) => ({
  files: [`src/main/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [{ name: 'electron', message: 'Only src/main/electron may import electron.' }],
        patterns: [registrationsInRootOnly, ...patterns],
      },
    ],
  },
});
const mainLayering = [
  ...mainFeatures.map((feature) =>
    mainFolderRules(feature, [
      {
        group: folderImports([...mainFeatures.filter((f) => f !== feature), ...mainShells]),
        message: `A feature imports shared pieces from the low folders of src/main (${mainLow.join(', ')}), not another feature's files.`,
      },
    ]),
  ),
  ...mainLow.map((low) =>
    mainFolderRules(low, [
      {
        group: folderImports([...mainFeatures, ...mainShells]),
        message: 'A low folder of src/main is what the features are built on: it imports none of them.',
      },
    ]),
  ),
  mainFolderRules('cli', [
    {
      group: ['../*/*-service'],
      allowTypeImports: true,
      message: 'The CLI calls the contract router (cli-services.ts), like the renderer, never a service.',
    },
  ]),
  mainFolderRules('transports', []),
];

// src/renderer: feature folders import shared pieces from the low folders (the run and host model in common/, the
// store, the shell's components, the transport, the theme), never each other; pages/ composes features into
// screens; the low folders import no feature and no page. Root files (app.tsx, bootstrap.ts) wire everything.
const rendererFeatures = [
  'checkpoints',
  'datasets',
  'experiments',
  'hosts',
  'integrity',
  'leaderboard',
  'live',
  'monitor',
  'replay',
  'runs',
  'steps',
];
const rendererLow = ['common', 'shell', 'store', 'theme', 'transport'];
const rendererPaths = nodeBuiltins.concat(nodeOnlyPackages).map((name) => ({
  name,
  message: 'The renderer imports only src/shared and browser libraries.',
}));
const rendererToMain = {
  group: ['**/main/**', '**/main'],
  message: 'The renderer talks to main only through the contract.',
};
const rendererFolderImports = (folders) => folders.flatMap((f) => [`../${f}`, `../${f}/**`, `../../${f}/**`]);
const rendererFolderRules = (folder, pattern) => ({
  files: [`src/renderer/${folder}/**/*.{ts,tsx}`],
  rules: {
    'no-restricted-imports': ['error', { paths: rendererPaths, patterns: [rendererToMain, pattern] }],
  },
});
const rendererLayering = [
  ...rendererFeatures.map((feature) =>
    rendererFolderRules(feature, {
      group: rendererFolderImports([...rendererFeatures.filter((f) => f !== feature), 'pages']),
      message: `A renderer feature imports shared pieces from the low folders (${rendererLow.join(', ')}), not another feature's files; pages/ composes features.`,
    }),
  ),
  ...rendererLow.map((low) =>
    rendererFolderRules(low, {
      group: rendererFolderImports([...rendererFeatures, 'pages']),
      message: 'A low folder of src/renderer is what the features are built on: it imports no feature and no page.',
    }),
  ),
];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'release/**', 'node_modules/**', 'test-results/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only src/main/electron may import electron.' }] },
      ],
    },
  },
  {
    files: ['bin/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/shared/**/*.ts'],
    languageOptions: { globals: { ...globals.es2021 } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.concat(nodeOnlyPackages, ['react', 'react-dom', 'zustand']).map((name) => ({
            name,
            message: 'src/shared runs anywhere: no electron, node, DOM or UI imports.',
          })),
          patterns: [
            { group: ['**/main/**', '**/renderer/**'], message: 'src/shared must not depend on main or renderer.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', { paths: rendererPaths, patterns: [rendererToMain] }],
      'react/no-danger': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']",
          message: 'Untrusted text is rendered as text, never as HTML.',
        },
        {
          selector: "MemberExpression[property.name='innerHTML']",
          message: 'Untrusted text is rendered as text, never as HTML.',
        },
      ],
    },
  },
  ...mainLayering,
  ...rendererLayering,
  {
    // The Electron shell is the one place that touches electron; raw IPC objects stay in the preload and main entry.
    files: ['src/main/electron/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', importNames: ['ipcRenderer'], message: 'Raw ipcRenderer is confined to the preload.' },
            {
              name: 'electron',
              importNames: ['ipcMain'],
              message: 'Raw ipcMain is confined to the Electron main entry.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/electron/preload.ts', 'src/main/electron/electron-main.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
