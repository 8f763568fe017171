#!/usr/bin/env node
// npm run bench: measures twofa's performance targets side by side in one
// run and writes the results to docs/benchmarks.md.
//
//   node bench/run.mjs [--runs 20] [--big-users 1000000] [--keep] [--out docs/benchmarks.md]
//
// It needs the builds in dist/ and build/ ("npm run bench" makes both),
// hyperfine, GNU time at /usr/bin/time and oathtool. It installs nothing.
// Fixtures go to a new folder under the system temp folder, which is deleted
// at the end unless --keep is given. The store of 1,000,000 users takes
// about 360 MB there.

import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import bcrypt from 'bcrypt';
import { ADMIN_USERNAME, makeStore, usernameOf } from './make-store.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;
const COST = 12;
const SMALL_USERS = 1000;
const BULK_USERS = 10_000;
const MEMORY_RUNS = 3;
/** Rounds that the start-up and scale runs are split into. */
const STARTUP_ROUNDS = 4;
/** Rounds, runs of each command in all, and in-process compares a round, for the login limit. */
const LOGIN_ROUNDS = 4;
const LOGIN_RUNS = 12;
const COMPARES_PER_ROUND = 3;
/** Rows on one page of users list, the CLI's default --limit. */
const DEFAULT_PAGE = 100;

const LIMITS = {
  startupRatio: 1.5,
  loginExtraMs: 40,
  bulkMs: 1000,
  hashSpeedup: 1.8,
  scaleRatio: 1.1,
  rssMegabytes: 120,
};

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    'big-users': { type: 'string', default: '1000000' },
    keep: { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs/benchmarks.md' },
  },
});
const RUNS = Number(options.runs);
const BIG_USERS = Number(options['big-users']);

checkTools();
const machine = describeMachine();
const work = mkdtempSync(join(tmpdir(), 'twofa-bench-'));
const stateDir = join(work, 'state');
log(`fixtures in ${work}`);

try {
  const results = measureAll();
  machine.loadAfter = loadavg();
  const outPath = resolve(ROOT, options.out);
  writeFileSync(outPath, renderReport(results));
  log(`wrote ${relative(process.cwd(), outPath)}`);
  for (const target of results.targets) {
    log(`${target.met ? 'met    ' : 'NOT MET'}  ${target.name}: ${target.measured} (limit ${target.limit})`);
  }
} finally {
  if (options.keep) {
    log(`kept the fixtures in ${work}`);
  } else {
    rmSync(work, { recursive: true, force: true });
  }
}

function measureAll() {
  log(`making fixtures: ${SMALL_USERS} users, ${BULK_USERS} bulk base, ${BIG_USERS} users (the large one takes a while)`);
  const small = makeStore({ users: SMALL_USERS, directory: join(work, 'small'), stateDirectory: stateDir, cost: COST, log });
  const bulkBase = makeStore({ users: SMALL_USERS, directory: join(work, 'bulk'), stateDirectory: stateDir, cost: COST, log });
  const bulkSnapshot = join(work, 'bulk', 'base.db');
  cpSync(bulkBase.store, bulkSnapshot);
  const big = makeStore({ users: BIG_USERS, directory: join(work, 'big'), stateDirectory: stateDir, cost: COST, log });
  const env = { ...process.env, TWOFA_STATE_DIR: stateDir, TWOFA_BCRYPT_COST: String(COST), NO_COLOR: '1' };
  delete env.TWOFA_DB;

  const smallMiddle = usernameOf(Math.floor(SMALL_USERS / 2));
  // One page of users list after the middle id, as JSON or as the default table.
  const listPage = (fixture, users, extra) => ({
    label: `users list --after${extra.length > 0 ? ` ${extra.join(' ')}` : ''} (${users} users)`,
    argv: [NODE, 'bin/twofa', 'users', 'list', '--after', String(users / 2), ...extra, '--db', fixture.store],
  });
  const bigMiddle = usernameOf(Math.floor(BIG_USERS / 2));

  log('start-up');
  const startup = hyperfine({
    env,
    commands: [
      { label: 'node -e 0', argv: [NODE, '-e', '0'] },
      { label: 'better-sqlite3 floor', argv: [NODE, 'bench/sqlite-floor.cjs', small.store] },
      { label: 'twofa --version', argv: [NODE, 'bin/twofa', '--version'] },
      { label: 'twofa users me', argv: [NODE, 'bin/twofa', 'users', 'me', '--db', small.store] },
      { label: 'twofa users get', argv: [NODE, 'bin/twofa', 'users', 'get', smallMiddle, '--db', small.store] },
      { label: 'twofa users list', argv: [NODE, 'bin/twofa', 'users', 'list', '--db', small.store] },
      // For comparison only, outside the target: the same page without the
      // table, and users me without the code cache.
      { label: 'twofa users list --json', argv: [NODE, 'bin/twofa', 'users', 'list', '--json', '--db', small.store] },
      {
        label: 'twofa users me, no code cache',
        argv: ['/usr/bin/env', 'TWOFA_CODE_CACHE=0', NODE, 'bin/twofa', 'users', 'me', '--db', small.store],
      },
    ],
  });

  // Outside the targets: with NODE_EXTRA_CA_CERTS set, every Node process
  // reads that CA bundle as it starts, which node -e 0 pays too. The same
  // start-ups without it show how much of the floor that is.
  let startupWithoutExtraCerts = null;
  if (process.env.NODE_EXTRA_CA_CERTS) {
    log('start-up without NODE_EXTRA_CA_CERTS');
    const envWithoutExtraCerts = { ...env };
    delete envWithoutExtraCerts.NODE_EXTRA_CA_CERTS;
    startupWithoutExtraCerts = hyperfine({ env: envWithoutExtraCerts, commands: startup.commands.slice(0, 6) });
  }

  log('bcrypt in-process: hashing rates');
  const bcryptRates = bcryptInProcess(['--compares', '3', '--hashes', '8']);

  // Rounds of node -e 0, the login and in-process compares, one after the
  // other, so that all three parts of the login limit see the same load.
  log('login');
  const loginRounds = [];
  const compareSamples = [];
  for (let round = 0; round < LOGIN_ROUNDS; round += 1) {
    // A fresh code each round: one code stays valid for about a minute.
    const code = totpCodeForNextStep(small.adminSecret);
    loginRounds.push(
      hyperfine({
        env,
        runs: Math.ceil(LOGIN_RUNS / LOGIN_ROUNDS),
        rounds: 1,
        warmup: 1,
        prepare: [NODE, 'bench/prepare.mjs', 'reset-totp', small.store, ADMIN_USERNAME],
        commands: [
          { label: 'node -e 0', argv: [NODE, '-e', '0'] },
          {
            label: 'twofa login',
            argv: [NODE, 'bin/twofa', 'login', '--db', small.store, '--username', ADMIN_USERNAME, '--password-file', small.passwordFile, '--otp', code, '--json'],
            displayReplacements: { [code]: 'CODE' },
          },
        ],
      }),
    );
    compareSamples.push(...bcryptInProcess(['--compares', String(COMPARES_PER_ROUND), '--hashes', '0']).compare.samplesMs);
  }
  const login = mergeRounds(loginRounds);
  const compare = { runs: compareSamples.length, medianMs: median(compareSamples), minMs: Math.min(...compareSamples), maxMs: Math.max(...compareSamples) };

  log('bulk insert');
  const bulkHash = bcrypt.hashSync('bench imported user password', COST);
  const bulk = hyperfine({
    env: { ...env, TWOFA_BENCH_HASH: bulkHash },
    runs: Math.min(RUNS, 5),
    rounds: 1,
    warmup: 1,
    prepare: [NODE, 'bench/prepare.mjs', 'copy', bulkSnapshot, bulkBase.store],
    commands: [{ label: `bulk insert ${BULK_USERS}`, argv: [NODE, 'bench/bulk-insert.mjs', bulkBase.store, String(BULK_USERS)] }],
  });

  log('scale');
  const scale = hyperfine({
    env,
    commands: [
      { label: `users get (${SMALL_USERS} users)`, argv: [NODE, 'bin/twofa', 'users', 'get', smallMiddle, '--db', small.store] },
      { label: `users get (${BIG_USERS} users)`, argv: [NODE, 'bin/twofa', 'users', 'get', bigMiddle, '--db', big.store] },
      listPage(small, SMALL_USERS, ['--json']),
      listPage(big, BIG_USERS, ['--json']),
      listPage(small, SMALL_USERS, []),
      listPage(big, BIG_USERS, []),
    ],
  });
  const plans = JSON.parse(
    execFileSync(NODE, ['bench/query-plans.mjs', big.store, bigMiddle, String(BIG_USERS / 2), ADMIN_USERNAME], { cwd: ROOT, encoding: 'utf8' }),
  );

  log('memory');
  const memory = measureMemory(env, big.store);

  return {
    startup,
    startupWithoutExtraCerts,
    login,
    compare,
    bcryptRates,
    bulk,
    scale,
    plans,
    memory,
    targets: judge({ startup, login, compare, bcryptRates, bulk, scale, plans, memory }),
  };
}

/** Compares every measurement with its limit. */
function judge({ startup, login, compare, bcryptRates, bulk, scale, plans, memory }) {
  const [bare, floor, version, me, get, list, listJson, meWithoutCache] = startup.results;
  const noHashing = [version, me, get, list];
  const slow = noHashing.filter((result) => result.median / bare.median > LIMITS.startupRatio);
  const fastest = noHashing.reduce((best, result) => (result.median < best.median ? result : best));

  const [loginBare, loginRun] = login.results;
  const loginLimit = loginBare.median + compare.medianMs + LIMITS.loginExtraMs;
  const loginMedian = loginRun.median;
  const bulkMedian = bulk.results[0].median;
  const getRatio = scale.results[1].median / scale.results[0].median;
  const listRatio = scale.results[3].median / scale.results[2].median;
  const tableRatio = scale.results[5].median / scale.results[4].median;
  const planQueries = [...plans.get, ...plans.list];
  const plansClean = planQueries.every((query) => !query.fullScan && !query.offset);
  const peakRss = Math.max(...memory.runs.map((run) => run.maxRssKilobytes)) / 1024;

  const overBare = (result) => result.median - bare.median;
  return [
    {
      name: 'Start-up without hashing',
      limit: `each ≤ ${LIMITS.startupRatio}× node -e 0`,
      measured: noHashing.map((result) => `${result.label.replace('twofa ', '')} ${ratio(result.median / bare.median)}`).join(', '),
      met: slow.length === 0,
      reason: [
        `node -e 0 takes ${ms(bare.median)}, and better-sqlite3 alone opening the store and reading one row ${ms(overBare(floor))} more.`,
        `bin/twofa runs one CommonJS bundle through dist/launcher.cjs with a V8 code cache (${ms(overBare(fastest))} over bare Node for ${fastest.label.replace('twofa ', '')}; users me takes`,
        `${ms(meWithoutCache.median)} without the cache against ${ms(me.median)} with it). Prompts, the password list and bcrypt load only in commands that use them;`,
        "otplib's module code runs in every command that opens the store, as core/users.ts and cli/runtime.ts import core/totp.ts.",
        slow.length === 0 ? '' : `Over the limit: ${slow.map((result) => result.label.replace('twofa ', '')).join(', ')}.`,
        `users list draws its ${DEFAULT_PAGE} rows as a table (src/cli/table.ts) in ${ms(list.median - listJson.median)} more than the same page as --json.`,
        process.env.NODE_EXTRA_CA_CERTS
          ? 'node -e 0 here includes reading the CA bundle that NODE_EXTRA_CA_CERTS names; the ratios without it are under Measurements.'
          : '',
      ]
        .filter(Boolean)
        .join(' '),
    },
    {
      name: 'Login',
      limit: `≤ node -e 0 + one bcrypt compare + ${LIMITS.loginExtraMs} ms = ${ms(loginLimit)}`,
      measured: ms(loginMedian),
      met: loginMedian <= loginLimit,
      reason:
        `node -e 0 took ${ms(loginBare.median)} and one native bcrypt compare at cost ${COST} ${ms(compare.medianMs)} in-process, in the same rounds. ` +
        `The login adds ${ms(loginMedian - loginBare.median - compare.medianMs)} to both (loading, store, TOTP check, session write).`,
    },
    {
      name: `Bulk insert of ${BULK_USERS.toLocaleString('en-US')} users with existing hashes`,
      limit: `≤ ${LIMITS.bulkMs} ms, whole process`,
      measured: ms(bulkMedian),
      met: bulkMedian <= LIMITS.bulkMs,
      reason:
        'insertUsers validates all rows, then writes them with prepared better-sqlite3 statements in one IMMEDIATE transaction, ' +
        'checking each username and email against the lower-case indexes. The process also loads the unbundled tsc output, Kysely included.',
    },
    {
      name: 'Parallel hashing',
      limit: `≥ ${LIMITS.hashSpeedup}× the one-at-a-time rate`,
      measured: `${ratio(bcryptRates.hashing.speedup)} (${bcryptRates.hashing.parallelPerSecond.toFixed(2)} against ${bcryptRates.hashing.sequentialPerSecond.toFixed(2)} hashes/s)`,
      met: bcryptRates.hashing.speedup >= LIMITS.hashSpeedup,
      reason:
        `hashPasswords keeps ${bcryptRates.threadPoolSize} bcrypt hashes on the libuv thread pool at once, on ${bcryptRates.cpus} cores, ` +
        'before any transaction, and reports each finished hash to a progress callback.',
    },
    {
      name: `Scale: ${BIG_USERS.toLocaleString('en-US')} against ${SMALL_USERS.toLocaleString('en-US')} users`,
      limit: `≤ ${LIMITS.scaleRatio}× for users get and one page of users list --after`,
      measured: `get ${ratio(getRatio)}, list ${ratio(tableRatio)}, list --json ${ratio(listRatio)}`,
      met: getRatio <= LIMITS.scaleRatio && listRatio <= LIMITS.scaleRatio && tableRatio <= LIMITS.scaleRatio,
      reason:
        (plansClean
          ? 'Both queries are index searches (query plans below): the username lookup uses the index on lower(username), the page a rowid range with LIMIT; no full scan, no OFFSET. '
          : 'A query plan below shows a full scan or OFFSET. ') +
        'The page is judged both as the default table and as --json.',
    },
    {
      name: `Memory: users list --limit 0 --json over ${BIG_USERS.toLocaleString('en-US')} users`,
      limit: `peak RSS < ${LIMITS.rssMegabytes} MB`,
      measured: `${peakRss.toFixed(1)} MB`,
      met: peakRss < LIMITS.rssMegabytes && memory.outputValid,
      reason: memory.outputValid
        ? 'Rows stream from better-sqlite3 through Kysely one at a time and are written in pieces of about 64 KiB, so nothing keeps the whole list.'
        : `The output was not a JSON array of ${BIG_USERS} users: ${memory.outputProblem}.`,
    },
  ];
}

/**
 * Runs hyperfine without a shell over the commands and returns, per command,
 * the median, fastest and slowest run in milliseconds and the command line as
 * the report shows it. The runs are split into rounds that each run every
 * command in turn, so that a burst of load elsewhere on the machine falls on
 * all commands alike rather than on whichever ran at that moment.
 */
function hyperfine({ commands, env, runs = RUNS, rounds = STARTUP_ROUNDS, warmup = 3, prepare }) {
  const runsPerRound = Math.ceil(runs / rounds);
  const times = commands.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    const exportPath = join(work, `hyperfine-${Date.now()}-${round}.json`);
    const argv = ['--shell=none', '--warmup', String(round === 0 ? warmup : 1), '--runs', String(runsPerRound), '--export-json', exportPath];
    if (prepare) {
      argv.push('--prepare', prepare.map(quote).join(' '));
    }
    for (const command of commands) {
      argv.push('--command-name', command.label, command.argv.map(quote).join(' '));
    }
    execFileSync('hyperfine', argv, { cwd: ROOT, env, stdio: ['ignore', 2, 2] });
    JSON.parse(readFileSync(exportPath, 'utf8')).results.forEach((result, index) => times[index].push(...result.times));
  }

  return {
    runs: runsPerRound * rounds,
    rounds,
    warmup,
    prepare: prepare ? display(prepare) : null,
    commands,
    results: commands.map((command, index) => summarize(command.label, display(command.argv, command.displayReplacements), times[index].map((seconds) => seconds * 1000))),
  };
}

/** Describes the times (ms) of one command: median, fastest, slowest and all. */
function summarize(label, command, times) {
  return { label, command, times, median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

/** Joins the results of hyperfine() calls over the same commands into one. */
function mergeRounds(rounds) {
  const [first] = rounds;
  return {
    ...first,
    runs: rounds.reduce((sum, round) => sum + round.runs, 0),
    rounds: rounds.length,
    results: first.results.map((result, index) =>
      summarize(result.label, result.command, rounds.flatMap((round) => round.results[index].times)),
    ),
  };
}

/** Runs bench/bcrypt-rates.mjs with these arguments at COST and returns its JSON. */
function bcryptInProcess(args) {
  return JSON.parse(
    execFileSync(NODE, ['bench/bcrypt-rates.mjs', '--cost', String(COST), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
}

function median(numbers) {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs the full listing under GNU time a few times, keeping each peak RSS. */
function measureMemory(env, store) {
  const output = join(work, 'all-users.json');
  const argv = [NODE, 'bin/twofa', 'users', 'list', '--limit', '0', '--json', '--db', store];
  const runs = [];
  for (let run = 0; run < MEMORY_RUNS; run += 1) {
    const outputFd = openSync(output, 'w');
    const result = spawnSync('/usr/bin/time', ['-v', ...argv], { cwd: ROOT, env, stdio: ['ignore', outputFd, 'pipe'], encoding: 'utf8' });
    closeSync(outputFd);
    if (result.status !== 0) {
      throw new Error(`users list --limit 0 failed (exit ${result.status}): ${result.stderr}`);
    }
    const maxRss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
    const elapsed = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(result.stderr);
    if (!maxRss || !elapsed) {
      throw new Error(`unexpected output of /usr/bin/time -v:\n${result.stderr}`);
    }
    const seconds = Number(elapsed[1] ?? 0) * 3600 + Number(elapsed[2]) * 60 + Number(elapsed[3]);
    runs.push({ maxRssKilobytes: Number(maxRss[1]), seconds });
    log(`  run ${run + 1}: peak RSS ${(Number(maxRss[1]) / 1024).toFixed(1)} MB, ${seconds.toFixed(2)} s`);
  }

  const check = checkListing(output);
  return { command: `/usr/bin/time -v ${display(argv)} > all-users.json`, runs, outputValid: check === null, outputProblem: check };
}

/**
 * Checks that the listing is a JSON array with one user a line and BIG_USERS
 * users; returns null when it is, else the problem.
 */
function checkListing(path) {
  const bytes = readFileSync(path);
  let newlines = 0;
  for (let index = bytes.indexOf(10); index !== -1; index = bytes.indexOf(10, index + 1)) {
    newlines += 1;
  }
  const head = bytes.subarray(0, 4096).toString('utf8').split('\n');
  const tail = bytes.subarray(Math.max(0, bytes.length - 4096)).toString('utf8').split('\n');
  if (head[0] !== '[' || tail.at(-2) !== ']' || tail.at(-1) !== '') {
    return 'it does not start with "[" and end with "]"';
  }
  if (newlines - 2 !== BIG_USERS) {
    return `it holds ${newlines - 2} lines of users`;
  }
  const first = JSON.parse(head[1].replace(/,$/, ''));
  const last = JSON.parse(tail.at(-3));
  if (first.id !== 1 || last.id !== BIG_USERS) {
    return `its ids run from ${first.id} to ${last.id}`;
  }
  return null;
}

function totpCodeForNextStep(secret) {
  const nextStepMs = (Math.floor(Date.now() / 30_000) + 1) * 30_000;
  const time = new Date(nextStepMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return execFileSync('oathtool', ['--totp', '--base32', `--now=${time}`, secret], { encoding: 'utf8' }).trim();
}

function checkTools() {
  const missing = [];
  if (spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).status !== 0) {
    missing.push('hyperfine (Debian/Ubuntu: apt-get install hyperfine; elsewhere see https://github.com/sharkdp/hyperfine#installation)');
  }
  if (spawnSync('/usr/bin/time', ['-v', 'true'], { stdio: 'ignore' }).status !== 0) {
    missing.push('GNU time at /usr/bin/time, for peak RSS (Debian/Ubuntu: apt-get install time)');
  }
  if (spawnSync('oathtool', ['--version'], { stdio: 'ignore' }).status !== 0) {
    missing.push('oathtool, for the fixture logins (Debian/Ubuntu: apt-get install oathtool)');
  }
  if (missing.length > 0) {
    process.stderr.write(`npm run bench needs tools that are missing; install them and run it again:\n${missing.map((tool) => `  - ${tool}`).join('\n')}\n`);
    process.exit(1);
  }
  for (const built of ['dist/cli.cjs', 'build/src/core/bulk.js']) {
    if (!existsSync(join(ROOT, built))) {
      process.stderr.write(`${built} is missing; run "npm run bench", which builds dist/ and build/ first\n`);
      process.exit(1);
    }
  }
}

function describeMachine() {
  const cpuInfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuInfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  return {
    cpu: model.trim(),
    cores: availableParallelism(),
    ramGigabytes: totalmem() / 1024 ** 3,
    os: `${/^PRETTY_NAME="?([^"\n]+)"?$/m.exec(osRelease)?.[1] ?? process.platform}, kernel ${release()}`,
    node: process.version,
    hyperfine: execFileSync('hyperfine', ['--version'], { encoding: 'utf8' }).trim(),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    loadBefore: loadavg(),
    loadAfter: null,
  };
}

function renderReport({ startup, startupWithoutExtraCerts, login, compare, bcryptRates, bulk, scale, plans, memory, targets }) {
  const load = (values) => values.map((value) => value.toFixed(2)).join(', ');
  const lines = [
    '# Benchmarks',
    '',
    '`npm run bench` wrote this page; run it again to measure your machine. It builds',
    'dist/ and build/, makes fixture stores in a temporary folder, measures with',
    '[hyperfine](https://github.com/sharkdp/hyperfine) and GNU time, and compares',
    'each target with commands measured in the same run. Times are wall-clock',
    'medians; ranges are the fastest and slowest run.',
    '',
    '## Machine',
    '',
    '| | |',
    '| --- | --- |',
    `| CPU | ${machine.cpu} |`,
    `| Cores | ${machine.cores} |`,
    `| RAM | ${machine.ramGigabytes.toFixed(1)} GiB |`,
    `| OS | ${machine.os} |`,
    `| Node | ${machine.node} |`,
    `| Tools | ${machine.hyperfine}, GNU time |`,
    `| Date | ${machine.date} |`,
    `| Load average (1, 5, 15 min) | ${load(machine.loadBefore)} before, ${load(machine.loadAfter)} after |`,
    '',
    `With ${machine.cores} cores, a load average near or above ${machine.cores} means other processes`,
    'competed for the CPU during the run, which makes every number here slower and noisier.',
    '',
    '## Targets',
    '',
    '| Target | Limit | Measured | Met | Reason |',
    '| --- | --- | --- | --- | --- |',
    ...targets.map((target) => `| ${target.name} | ${target.limit} | ${target.measured} | ${target.met ? 'yes' : '**no**'} | ${target.reason} |`),
    '',
    '## Measurements',
    '',
    `### Start-up (${runsNote(startup)})`,
    '',
    'The store has 1,000 users; the commands run as its logged-in admin. The warm-up runs let',
    "the launcher write its code cache (dist/cli.cjs.cache), which every run of a command after its",
    'first one uses. The last two rows are for comparison and outside the target; the last one',
    'starts through /usr/bin/env, which adds an exec of its own.',
    '',
    ...timingTable(startup, startup.results[0]),
    '',
    ...(startupWithoutExtraCerts === null ? [] : extraCertsSection(startup, startupWithoutExtraCerts)),
    '### Login',
    '',
    `${login.rounds} rounds, each of ${login.runs / login.rounds} runs of node -e 0 and of the login (after ${login.warmup} warm-up run),`,
    `then ${COMPARES_PER_ROUND} bcrypt compares at cost ${COST} in-process (\`node bench/bcrypt-rates.mjs --compares ${COMPARES_PER_ROUND} --hashes 0\`).`,
    `Before each run, \`${login.prepare}\` clears the last accepted TOTP step, so that`,
    "one code (from oathtool, for the next 30-second step, new each round) logs in every time;",
    'twofa itself accepts each code once.',
    '',
    ...timingTable(login),
    '',
    `One native bcrypt compare at cost ${COST}, timed in-process over ${compare.runs} runs:`,
    `median ${ms(compare.medianMs)}, range ${ms(compare.minMs)} – ${ms(compare.maxMs)}.`,
    '',
    '### Bulk writes',
    '',
    `${bulk.runs} runs after ${bulk.warmup} warm-up run; before each, \`${bulk.prepare}\` restores the`,
    `store of ${SMALL_USERS.toLocaleString('en-US')} users. Each run is a whole Node process that inserts ${BULK_USERS.toLocaleString('en-US')} users through`,
    '`insertUsers` (src/core/bulk.ts) with one existing bcrypt hash.',
    '',
    ...timingTable(bulk),
    '',
    `Hashing ${bcryptRates.hashing.passwords} passwords at cost ${bcryptRates.cost} in-process (\`node bench/bcrypt-rates.mjs\`), UV_THREADPOOL_SIZE ${bcryptRates.threadPoolSize}:`,
    '',
    '| Method | Hashes per second |',
    '| --- | --- |',
    `| one at a time (\`await bcrypt.hash\` in a loop) | ${bcryptRates.hashing.sequentialPerSecond.toFixed(2)} |`,
    `| \`hashPasswords\` | ${bcryptRates.hashing.parallelPerSecond.toFixed(2)} |`,
    '',
    `### Scale (${runsNote(scale)})`,
    '',
    ...timingTable(scale),
    '',
    `Query plans on the store of ${BIG_USERS.toLocaleString('en-US')} users, for the SQL that twofa's core sends (\`bench/query-plans.mjs\`):`,
    '',
    ...[...plans.get.map((query) => ['users get', query]), ...plans.list.map((query) => ['users list --after', query])].flatMap(([name, query]) => [
      `- ${name}: \`${query.sql}\``,
      ...query.plan.map((detail) => `  - \`${detail}\``),
    ]),
    '',
    '### Memory',
    '',
    `\`${memory.command}\`, ${memory.runs.length} runs:`,
    '',
    '| Run | Peak RSS | Wall time |',
    '| --- | --- | --- |',
    ...memory.runs.map((run, index) => `| ${index + 1} | ${(run.maxRssKilobytes / 1024).toFixed(1)} MB | ${run.seconds.toFixed(2)} s |`),
    '',
    '## Commands',
    '',
    `\`node\` is ${NODE}; \`$BENCH\` is the temporary fixture folder, and \`CODE\` the TOTP`,
    `code of the run. hyperfine runs without a shell (\`--shell=none\`), with TWOFA_STATE_DIR=$BENCH/state,`,
    `TWOFA_BCRYPT_COST=${COST} and NO_COLOR=1. Fixtures come from \`bench/make-store.mjs\`.`,
    '',
    '```sh',
    ...new Set([...startup.results, ...login.results, ...bulk.results, ...scale.results].map((result) => result.command)),
    memory.command,
    '```',
    '',
  ];
  return `${lines.join('\n')}\n`.replace(/\n\n+$/, '\n');
}

function runsNote(measurement) {
  return `${measurement.runs} runs of each command in ${measurement.rounds} rounds, after ${measurement.warmup} warm-up runs and 1 before each later round`;
}

/** Describes the start-up measured without NODE_EXTRA_CA_CERTS, outside the targets. */
function extraCertsSection(startup, without) {
  const [bareWith] = startup.results;
  const [bareWithout] = without.results;
  return [
    '#### The same start-ups without NODE_EXTRA_CA_CERTS (outside the targets)',
    '',
    `NODE_EXTRA_CA_CERTS is set on this machine (to ${process.env.NODE_EXTRA_CA_CERTS}), so every Node process`,
    `reads that CA bundle as it starts: node -e 0 takes ${ms(bareWith.median)} with it and ${ms(bareWithout.median)} without.`,
    'The targets are judged as the machine is set up, the setting in which they were given.',
    'twofa makes no TLS connections and does not use the bundle, but cannot skip reading it.',
    'Without it, the same absolute costs weigh more against the smaller floor:',
    '',
    ...timingTable(without, bareWithout),
    '',
  ];
}

function timingTable(measurement, baseline = null) {
  const header = baseline ? '| Command | Median | Min – max | Ratio to node -e 0 |' : '| Command | Median | Min – max |';
  const rule = baseline ? '| --- | --- | --- | --- |' : '| --- | --- | --- |';
  return [
    header,
    rule,
    ...measurement.results.map((result) => {
      const cells = [result.label, ms(result.median), `${ms(result.min)} – ${ms(result.max)}`];
      if (baseline) {
        cells.push(ratio(result.median / baseline.median));
      }
      return `| ${cells.join(' | ')} |`;
    }),
  ];
}

/** Shows a command line with the fixture folder as $BENCH and node by name. */
function display(argv, replacements = {}) {
  return argv
    .map((argument) => {
      let shown = argument === NODE ? 'node' : argument.split(work).join('$BENCH');
      for (const [from, to] of Object.entries(replacements)) {
        shown = shown.split(from).join(to);
      }
      return quote(shown);
    })
    .join(' ');
}

/** Quotes an argument for hyperfine's shell-words parsing and for sh. */
function quote(argument) {
  return /^[\w@%+=:,./$-]+$/.test(argument) ? argument : `'${argument.replace(/'/g, "'\\''")}'`;
}

function ms(milliseconds) {
  return `${milliseconds.toFixed(1)} ms`;
}

function ratio(value) {
  return `${value.toFixed(2)}×`;
}

function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}
