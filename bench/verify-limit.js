'use strict'
// The all-core limit for never-seen RS256 tokens: bench/verify_limit.rs (a
// small Rust benchmark, no JavaScript) verifying the bench's own token with
// aws-lc on one thread and on one thread per core. Built once per run,
// without the napi layer, then run once per round beside the patterns it
// is the limit of.

const { execFileSync, execFile } = require('node:child_process')
const path = require('node:path')

const PACKAGE_ROOT = path.join(__dirname, '..')

/** Builds the benchmark (cargo's bench profile) and returns its executable. */
function buildVerifyLimit(log) {
  log('  building bench/verify_limit.rs (cargo bench --no-run, without the napi layer)...')
  const output = execFileSync('cargo', ['bench', '--no-default-features', '--bench', 'verify_limit', '--no-run', '--message-format=json'], {
    cwd: PACKAGE_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  })
  const executable = output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .find((message) => message.reason === 'compiler-artifact' && message.target && message.target.name === 'verify_limit' && message.executable)
  if (!executable) throw new Error('cargo built no verify_limit executable')
  return executable.executable
}

/** `{ threads, oneCore, allCores }` verifications/s of `jwt`'s signature under the RSA key `{ n, e }`. */
function measureVerifyLimit(executable, { jwt, jwk, measureMs }) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, BENCH_JWT: jwt, BENCH_RSA_N: jwk.n, BENCH_RSA_E: jwk.e }
    execFile(executable, [String(measureMs)], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`verify_limit failed: ${error.message}\n${stderr}`))
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()))
      } catch {
        reject(new Error(`verify_limit printed no JSON result:\n${stdout}\n${stderr}`))
      }
    })
  })
}

module.exports = { buildVerifyLimit, measureVerifyLimit }
