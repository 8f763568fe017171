// Starts the bundled CLI, dist/cli.cjs, with a V8 code cache, so that V8
// skips most of the parsing and compiling of the bundle at each start
// (docs/benchmarks.md measures both ways). Node 20 has no compile cache of
// its own; module.enableCompileCache() came in Node 22.1. esbuild bundles
// this file to dist/launcher.cjs, beside the CLI bundle.
//
// The cache is dist/cli.cjs.cache, beside the bundle, so it is exactly as
// trusted as the code. Its first line records which bundle file it was made
// from (size, modification time in nanoseconds, inode) and the commands it
// covers. V8 rejects a cache from another V8 version or with other flags.
// It did accept the old cache for a changed bundle of the same length in a
// trial, and printed the old version. So the key names the file itself.
//
// When a command runs that the cache does not cover, or the cache is
// missing, stale or rejected, the cache is written anew as the process
// exits, when V8 has compiled all the code that command ran. A read-only
// install folder just means no cache. TWOFA_CODE_CACHE=0 turns it off.
import { closeSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

interface CacheHeader {
  source: string;
  commands: string[];
}

const BUNDLE = join(__dirname, 'cli.cjs');
const CACHE = `${BUNDLE}.cache`;
/** A cache stops growing at this many commands, whatever the arguments look like. */
const MAX_COVERED_COMMANDS = 32;

// The key comes from the descriptor that the source is read from, so it
// matches the file read even if a build replaces it meanwhile. A stat costs
// less than hashing the source, which would load node:crypto in every command.
const bundleFd = openSync(BUNDLE, 'r');
const bundleStats = fstatSync(bundleFd, { bigint: true });
const source = readFileSync(bundleFd, 'utf8');
closeSync(bundleFd);
const sourceKey = `${bundleStats.size}-${bundleStats.mtimeNs}-${bundleStats.ino}`;
const useCache = process.env.TWOFA_CODE_CACHE !== '0';
const cache = useCache ? readCache(sourceKey) : null;

// The same wrapper as Node's own for CommonJS modules.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: BUNDLE,
  ...(cache ? { cachedData: cache.data } : {}),
});

if (useCache) {
  const command = commandOf(process.argv.slice(2));
  const covered = cache !== null && !script.cachedDataRejected ? cache.commands : [];
  if (!covered.includes(command) && covered.length < MAX_COVERED_COMMANDS) {
    process.once('exit', () => writeCache({ source: sourceKey, commands: [...covered, command] }));
  }
}

// The CLI runs as a microtask, as it did when it was an ES module. Stream
// errors that arrive through process.nextTick, such as EPIPE from a reader
// like "head", then come after the CLI's handlers are in place.
const bundleModule = { exports: {} };
const runBundle = script.runInThisContext();
queueMicrotask(() => runBundle.call(bundleModule.exports, bundleModule.exports, createRequire(BUNDLE), bundleModule, BUNDLE, dirname(BUNDLE)));

/** Returns the cache made from this bundle, or null when there is none. */
function readCache(expectedSourceKey: string): { commands: string[]; data: Buffer } | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(CACHE);
  } catch {
    return null;
  }
  const newline = bytes.indexOf(10);
  try {
    const header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as Partial<CacheHeader>;
    if (header.source !== expectedSourceKey || !Array.isArray(header.commands)) {
      return null;
    }
    return { commands: header.commands, data: bytes.subarray(newline + 1) };
  } catch {
    return null;
  }
}

function writeCache(header: CacheHeader): void {
  const temporary = `${CACHE}.${process.pid}.tmp`;
  try {
    const data = script.createCachedData();
    writeFileSync(temporary, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]), { mode: 0o644 });
    // A rename replaces the file whole, so a concurrent start reads one cache or the other.
    renameSync(temporary, CACHE);
  } catch {
    // A read-only install folder: twofa runs on without a cache.
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Nothing was written.
    }
  }
}

/**
 * Names the command, such as "login" or "users list", from the arguments:
 * the first word that is not an option, and the next one after "users".
 * An option's value may slip in as a word, which costs only a rewrite.
 */
function commandOf(args: string[]): string {
  const words: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const argument = args[index] as string;
    if (argument === '--db') {
      index += 1;
    } else if (['--version', '-V', '--help', '-h'].includes(argument) || !argument.startsWith('-')) {
      words.push(argument);
      if (words[0] !== 'users' || words.length === 2) {
        break;
      }
    }
  }
  return words.join(' ');
}
