// Bundles the CLI into dist/ with esbuild, and with --with-tests also
// type-checks and compiles src/ and test/ into build/ for the test runner.
//
// dist/cli.cjs contains twofa's code and the packages that most commands use.
// It is CommonJS because dist/launcher.cjs (from src/launcher/) compiles it as
// a script with a V8 code cache, which Node 20 offers for scripts only. The two large packages that
// only some commands use (@inquirer/prompts and the common-password list)
// are bundled apart in dist/vendor/ and required when first used. Native
// addons stay in node_modules.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const withTests = process.argv.includes('--with-tests');

/** Modules that the CLI bundle requires at run time, by import specifier. */
const RUN_TIME_REQUIRES = {
  bcrypt: 'bcrypt',
  '@inquirer/prompts': './vendor/prompts.cjs',
  '@zxcvbn-ts/language-common/dist/passwords.json.mjs': './vendor/common-passwords.cjs',
};

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  logLevel: 'warning',
};

// The files of the ES-module layout that earlier builds made, and the code
// cache of the last bundle: bin/twofa would reject it as stale anyway, and
// this keeps it out of "npm pack".
for (const stale of ['dist/cli.js', 'dist/cli.js.map', 'dist/chunks', 'dist/cli.cjs.cache']) {
  rmSync(stale, { recursive: true, force: true });
}

await build({
  ...common,
  entryPoints: { cli: 'src/cli/main.ts' },
  sourcemap: 'linked',
  plugins: [requireAtRunTime(RUN_TIME_REQUIRES), sqliteAddonByPath(), lazyChildProcessForCommander()],
  define: { TWOFA_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
});

// bin/twofa requires this; it runs dist/cli.cjs with the code cache.
await build({ ...common, entryPoints: { launcher: 'src/launcher/launcher.ts' } });

await build({ ...common, entryPoints: { 'vendor/prompts': '@inquirer/prompts' } });
// The list's module.exports is the array itself, as import() then gives it as
// the default export whichever way esbuild wraps a CommonJS module.
await build({
  ...common,
  stdin: { contents: "module.exports = require('@zxcvbn-ts/language-common/dist/passwords.json.mjs').default;", resolveDir: '.' },
  outdir: undefined,
  outfile: 'dist/vendor/common-passwords.cjs',
});

if (withTests) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}

/**
 * Turns `import(specifier)` in twofa's code into a require() of the target
 * at run time. esbuild keeps import() of an external module, and a script
 * compiled by node:vm has no loader for import(); require() needs none.
 */
function requireAtRunTime(targets) {
  return {
    name: 'require-at-run-time',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /.*/ }, (args) => {
        if (args.namespace === 'run-time-require') {
          return { path: args.path, external: true };
        }
        if (Object.hasOwn(targets, args.path) && !args.importer.includes('node_modules')) {
          // A path without the ".mjs" of some specifiers, which would make esbuild read it as an ES module.
          return { path: `require ${targets[args.path]}`, namespace: 'run-time-require', pluginData: targets[args.path] };
        }
        return undefined;
      });
      pluginBuild.onLoad({ filter: /.*/, namespace: 'run-time-require' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.pluginData)});`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Bundles better-sqlite3's JavaScript, and makes it require its compiled
 * addon by path instead of through the "bindings" package, which searches
 * about a dozen folders for it on every start.
 */
function sqliteAddonByPath() {
  return {
    name: 'sqlite-addon-by-path',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^bindings$/ }, (args) =>
        args.importer.includes('better-sqlite3') ? { path: 'bindings', namespace: 'sqlite-addon' } : undefined,
      );
      pluginBuild.onLoad({ filter: /.*/, namespace: 'sqlite-addon' }, () => ({
        contents: "module.exports = () => require('better-sqlite3/build/Release/better_sqlite3.node');",
        loader: 'js',
      }));
      pluginBuild.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/**
 * Gives commander a node:child_process that loads on first use. Commander
 * needs it only to run subcommands that are separate executables, which
 * twofa has none of, and loading it pulls in about 35 of Node's internal
 * modules (about 2 ms) on every start.
 */
function lazyChildProcessForCommander() {
  return {
    name: 'lazy-child-process-for-commander',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^node:child_process$/ }, (args) =>
        /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined,
      );
      pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
        contents: "module.exports = new Proxy({}, { get: (target, name) => require('node:child_process')[name] });",
        loader: 'js',
      }));
    },
  };
}
