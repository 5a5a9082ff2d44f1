// Lint enforces the layering: src/shared runs anywhere (no electron, node or DOM), the renderer imports only
// src/shared and browser libraries, and only the Electron shell touches `electron`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const nodeOnlyPackages = ['ssh2', 'dockerode', 'docker-modem', 'ws', 'commander', 'electron', 'electron-builder'];

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
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.concat(nodeOnlyPackages).map((name) => ({
            name,
            message: 'The renderer imports only src/shared and browser libraries.',
          })),
          patterns: [
            { group: ['**/main/**', '**/main'], message: 'The renderer talks to main only through the contract.' },
          ],
        },
      ],
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
