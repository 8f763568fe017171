#!/usr/bin/env node
// In-process bcrypt measurements, printed as one JSON object on stdout:
// - compare: the time of one native bcrypt compare at COST, over COMPARES
//   runs one after another (median, min, max in ms);
// - hashing: the rate of hashing one password at a time against the rate of
//   hashPasswords, which keeps the libuv thread pool busy, over HASHES
//   passwords each (hashes per second), or null with --hashes 0. Progress
//   goes to standard error.
//
//   node bench/bcrypt-rates.mjs [--cost 12] [--compares 10] [--hashes 8]
//
// hashPasswords comes from the tsc output in build/.

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import bcrypt from 'bcrypt';
import { hashPasswords } from '../build/src/core/bulk.js';

const { values } = parseArgs({
  options: {
    cost: { type: 'string', default: '12' },
    compares: { type: 'string', default: '10' },
    hashes: { type: 'string', default: '8' },
  },
});
const cost = Number(values.cost);
const compareRuns = Number(values.compares);
const hashCount = Number(values.hashes);

const password = 'bench compare passphrase';
const hash = await bcrypt.hash(password, cost);
await bcrypt.compare(password, hash);

const compareMs = [];
for (let run = 0; run < compareRuns; run += 1) {
  const started = performance.now();
  if (!(await bcrypt.compare(password, hash))) {
    throw new Error('bcrypt compare returned false for the right password');
  }
  compareMs.push(performance.now() - started);
}

const hashing = hashCount > 0 ? await measureHashing() : null;

process.stdout.write(
  `${JSON.stringify({
    cost,
    cpus: availableParallelism(),
    threadPoolSize: Number(process.env.UV_THREADPOOL_SIZE) || 4,
    compare: { runs: compareRuns, medianMs: median(compareMs), minMs: Math.min(...compareMs), maxMs: Math.max(...compareMs), samplesMs: compareMs },
    hashing,
  })}\n`,
);

/** Hashes hashCount passwords one at a time, then with hashPasswords, and compares the rates. */
async function measureHashing() {
  const passwords = Array.from({ length: hashCount }, (_, index) => `bench password number ${index}`);

  let started = performance.now();
  for (const [index, plain] of passwords.entries()) {
    await bcrypt.hash(plain, cost);
    process.stderr.write(`\rone at a time: ${index + 1}/${hashCount}`);
  }
  const sequentialSeconds = (performance.now() - started) / 1000;
  process.stderr.write('\n');

  started = performance.now();
  await hashPasswords(passwords, cost, (done, total) => process.stderr.write(`\rhashPasswords: ${done}/${total}`));
  const parallelSeconds = (performance.now() - started) / 1000;
  process.stderr.write('\n');

  const sequentialRate = hashCount / sequentialSeconds;
  const parallelRate = hashCount / parallelSeconds;
  return { passwords: hashCount, sequentialPerSecond: sequentialRate, parallelPerSecond: parallelRate, speedup: parallelRate / sequentialRate };
}

function median(numbers) {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
