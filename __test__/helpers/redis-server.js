'use strict'
// A real redis-server (Debian's package; .ci/run installs it) for the
// coordination tests: on a free loopback port, persistence off, stopped when
// the test ends. `stop()` and `start()` keep the port, so a test can take
// Redis away under running app processes and bring it back.

const { spawn, spawnSync } = require('node:child_process')
const { freePort, sleep } = require('./common.js')

const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server'
const REDIS_CLI = process.env.REDIS_CLI || 'redis-cli'

/** Which server the tests run against (`REDIS_SERVER` chooses another, such as valkey-server). */
function serverName() {
  return require('node:path').basename(REDIS_SERVER)
}

function redisAvailable() {
  return spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }).status === 0
}

/**
 * Starts redis-server. `password` sets requirepass; `tls` ({ cert, key, ca })
 * serves TLS only, on the same port.
 */
async function startRedis(t, { password, tls } = {}) {
  const port = await freePort()
  let child = null
  let output = ''

  const args = () => {
    const list = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning']
    if (tls)
      list.push(
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        tls.cert,
        '--tls-key-file',
        tls.key,
        '--tls-ca-cert-file',
        tls.ca,
        '--tls-auth-clients',
        'no',
      )
    else list.push('--port', String(port))
    if (password) list.push('--requirepass', password)
    return list
  }

  const start = async () => {
    output = ''
    child = spawn(REDIS_SERVER, args(), { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk))
    const deadline = Date.now() + 10000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}):\n${output}`)
      if (ping()) return
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on ${port}:\n${output}`)
      await sleep(50)
    }
  }

  const stop = () =>
    new Promise((resolve) => {
      if (child === null || child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })

  const cliArgs = () => {
    const list = ['-h', '127.0.0.1', '-p', String(port), '--no-auth-warning']
    if (password) list.push('-a', password)
    if (tls) list.push('--tls', '--cacert', tls.ca)
    return list
  }

  /** Runs one command with redis-cli; its raw output. */
  const cli = (...command) => {
    const run = spawnSync(REDIS_CLI, [...cliArgs(), ...command], { encoding: 'utf8' })
    if (run.status !== 0) throw new Error(`redis-cli ${command.join(' ')}: ${run.stderr}`)
    return run.stdout
  }

  const ping = () => spawnSync(REDIS_CLI, [...cliArgs(), 'PING'], { encoding: 'utf8' }).stdout.trim() === 'PONG'

  /** Every key with its value and time to live. */
  const dump = () =>
    cli('--scan')
      .split('\n')
      .filter(Boolean)
      .map((key) => ({ key, value: cli('GET', key).replace(/\n$/, ''), ttlMs: Number(cli('PTTL', key)) }))

  await start()
  t.after(stop)
  const auth = password ? `:${encodeURIComponent(password)}@` : ''
  return { port, url: `${tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`, start, stop, cli, dump, output: () => output }
}

/**
 * A Redis Cluster of `masters` nodes (no replicas) on loopback ports, made
 * the way an operator makes one: each redis-server with
 * `--cluster-enabled yes`, then `redis-cli --cluster create`. Resolves once
 * every node reports `cluster_state:ok`. `stopNode(i)` kills one master.
 */
async function startRedisCluster(t, { masters = 3 } = {}) {
  const fs = require('node:fs')
  const os = require('node:os')
  const path = require('node:path')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redis-cluster-'))
  const ports = []
  for (let i = 0; i < masters; i++) ports.push(await freePort())
  const nodes = ports.map((port) => {
    const args = ['--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`]
    args.push('--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning', '--dir', dir)
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk))
    return { port, child, output: () => output }
  })
  const stopNode = (index) =>
    new Promise((resolve) => {
      const { child } = nodes[index]
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })
  t.after(async () => {
    await Promise.all(nodes.map((_, index) => stopNode(index)))
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const cli = (port, ...command) => spawnSync(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...command], { encoding: 'utf8' })
  const deadline = Date.now() + 15000
  while (!ports.every((port) => cli(port, 'PING').stdout.trim() === 'PONG')) {
    if (Date.now() > deadline) throw new Error(`cluster nodes did not start:\n${nodes.map((n) => n.output()).join('\n')}`)
    await sleep(50)
  }
  const created = spawnSync(REDIS_CLI, ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], {
    encoding: 'utf8',
  })
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`)
  while (!ports.every((port) => /cluster_state:ok/.test(cli(port, 'CLUSTER', 'INFO').stdout))) {
    if (Date.now() > deadline) throw new Error(`the cluster did not become ready:\n${created.stdout}`)
    await sleep(100)
  }
  /** Every key of the cluster, by the node that holds it. */
  const keysByNode = () => ports.map((port) => cli(port, '--scan').stdout.split('\n').filter(Boolean))
  return { ports, urls: ports.map((port) => `redis://127.0.0.1:${port}`), stopNode, keysByNode }
}

module.exports = { startRedis, startRedisCluster, redisAvailable, serverName }
