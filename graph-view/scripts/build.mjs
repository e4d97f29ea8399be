// Bundle the graph view into one IIFE script (elkjs included, no network requests at runtime):
//   dist/graph-view.js                                  (the VS Code extension copies it)
//   ../compiler/agrippa/resources/graph-view.js         (`agrippa view` embeds it in the HTML)
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(here, 'dist', 'graph-view.js');
await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  bundle: true,
  outfile: out,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [{  // `import text from 'x.js?text'`: the file's content as a string (elkjs's worker)
    name: 'text',
    setup(b) {
      b.onResolve({ filter: /\?text$/ }, (args) => ({
        path: join(here, 'node_modules', args.path.replace(/\?text$/, '')), namespace: 'text' }));
      b.onLoad({ filter: /.*/, namespace: 'text' }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text' }));
    },
  }],
});
const resources = join(here, '..', 'compiler', 'agrippa', 'resources');
mkdirSync(resources, { recursive: true });
copyFileSync(out, join(resources, 'graph-view.js'));
for (const dest of process.argv.slice(2)) {
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(out, dest);
}
console.log(`graph-view: ${out} (copied to compiler/agrippa/resources/graph-view.js)`);
