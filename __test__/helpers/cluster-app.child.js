'use strict'
// An app run the way Node's `cluster` runs one: this primary forks WORKERS
// workers, each coordinated-instance.child.js listening on the one PORT the
// primary shares out round-robin. It prints "Listening on <url>" once every
// worker listens; the workers' own lines (WARN ...) are passed through.
const cluster = require('node:cluster')
const path = require('node:path')

const workers = Number(process.env.WORKERS || 4)
const port = Number(process.env.PORT)
cluster.schedulingPolicy = cluster.SCHED_RR
cluster.setupPrimary({ exec: path.join(__dirname, 'coordinated-instance.child.js'), silent: true })
let listening = 0
for (let i = 0; i < workers; i++) {
  const worker = cluster.fork({ PORT: String(port) })
  worker.process.stdout.on('data', (chunk) => {
    for (const line of String(chunk).split('\n')) if (line && !line.startsWith('Listening on')) console.log(line)
  })
  worker.process.stderr.pipe(process.stderr)
}
cluster.on('listening', () => {
  listening++
  if (listening === workers) console.log(`Listening on http://127.0.0.1:${port}`)
})
