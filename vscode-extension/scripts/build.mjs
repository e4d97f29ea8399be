// Bundle the extension into dist/extension.js (one file: the .vsix ships no node_modules).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';

const production = process.argv.includes('--production') || process.env.NODE_ENV === 'production';

await build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  external: ['vscode'],
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
});

// The model graph's webview script (graph-view/, bundled with elkjs): built there, copied here.
const graphView = '../graph-view';
if (existsSync(`${graphView}/package.json`)) {
  if (!existsSync(`${graphView}/node_modules`)) execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: graphView, stdio: 'inherit' });
  execFileSync('node', ['scripts/build.mjs'], { cwd: graphView, stdio: 'inherit' });
  copyFileSync(`${graphView}/dist/graph-view.js`, 'dist/graph-view.js');
}
