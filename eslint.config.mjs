import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.genesis/**', '.nx/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            // Apps are leaves: nothing imports an app. Libs depend one way, from contracts up.
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:config',
                'type:contracts',
                'type:messaging',
                'type:persistence',
                'type:observability',
                'type:testing',
                'type:cycles',
                'type:secrets',
                'type:vectors',
                'type:registry',
              ],
            },
            // Secret detection and redaction of learnings (ADR 0012): pure text in, text out.
            { sourceTag: 'type:secrets', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:config', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:observability', onlyDependOnLibsWithTags: ['type:config'] },
            {
              sourceTag: 'type:messaging',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:observability', 'type:config'],
            },
            {
              sourceTag: 'type:persistence',
              onlyDependOnLibsWithTags: [
                'type:contracts',
                'type:messaging',
                'type:observability',
                'type:config',
              ],
            },
            // The improvement-cycle state machine and its store (ADR 0004); its domain/ folder imports nothing.
            {
              sourceTag: 'type:cycles',
              onlyDependOnLibsWithTags: [
                'type:registry',
                'type:contracts',
                'type:messaging',
                'type:persistence',
                'type:observability',
                'type:config',
              ],
            },
            // The model registry (ADR 0022): families, versions, aliases, artifacts, metrics history.
            { sourceTag: 'type:registry', onlyDependOnLibsWithTags: ['type:contracts', 'type:config'] },
            // The vector index port, its adapters and the embedder's client (ADR 0018).
            { sourceTag: 'type:vectors', onlyDependOnLibsWithTags: ['type:contracts', 'type:config'] },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: [
                'type:secrets',
                'type:contracts',
                'type:messaging',
                'type:persistence',
                'type:observability',
                'type:config',
              ],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
);
