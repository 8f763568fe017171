// Bundles the CLI into dist/ with esbuild, and with --with-tests also
// type-checks and compiles src/ and test/ into build/ for the test runner.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const withTests = process.argv.includes('--with-tests');

await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // Native addons load their compiled binding from node_modules at run time.
  external: ['better-sqlite3', 'bcrypt'],
  // Bundled CommonJS packages call require() for Node's own modules and read
  // __filename, which an ES module does not have until it makes them.
  banner: {
    js: [
      "import{createRequire as __twofaCreateRequire}from'node:module';",
      "import{fileURLToPath as __twofaFileURLToPath}from'node:url';",
      'const require=__twofaCreateRequire(import.meta.url);',
      'const __filename=__twofaFileURLToPath(import.meta.url);',
    ].join(''),
  },
  define: { TWOFA_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
  logLevel: 'warning',
});

if (withTests) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
