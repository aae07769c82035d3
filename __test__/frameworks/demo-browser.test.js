'use strict'
// The demo page in headless Chromium (Debian's, driven by playwright-core):
// sign in, see the protected data, watch the JWT get refreshed, log out.
// A screenshot of each stage goes to test-output/.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { root } = require('../helpers/common.js')
const { TEST_PROJECT_ID } = require('../../testing/emulator.js')
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const haveChromium = fs.existsSync(CHROMIUM)

// CI installs Chromium (.ci/run); there a missing browser is a failure, not a skip.
test('demo page: sign in, protected data, refresh, logout', {
  skip: !haveChromium && !process.env.CI && `no Chromium at ${CHROMIUM}`,
  timeout: 90000,
}, async (t) => {
  assert.ok(haveChromium, `Chromium is required in CI (looked for ${CHROMIUM})`)
  const { chromium } = require('playwright-core')
  const outDir = path.join(root, 'test-output')
  fs.mkdirSync(outDir, { recursive: true })

  const demo = spawn(process.execPath, [path.join(root, 'examples/demo.js'), '--serve'], {
    cwd: root,
    env: { ...process.env, PORT: '0', DEMO_JWT_TTL: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => demo.kill())
  let output = ''
  demo.stderr.on('data', (d) => (output += d))
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start: ${output}`)), 20000)
    demo.stdout.on('data', (d) => {
      output += d
      const match = output.match(/Demo page: (http:\/\/127\.0\.0\.1:\d+)\//)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
  })

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  t.after(() => browser.close())
  const page = await browser.newPage()
  await page.goto(`${base}/`)
  await page.fill('#email', 'browser@example.com')
  await page.click('#sign-in')
  await page.waitForFunction(() => document.getElementById('user').textContent.startsWith('user-'), null, { timeout: 10000 })
  assert.equal(await page.textContent('#status'), 'Signed in')
  await page.screenshot({ path: path.join(outDir, 'demo-signed-in.png') })

  // The JWT lives 3 s; the page polls every second, so a refresh shows up.
  await page.waitForFunction(() => Number(document.getElementById('refreshes').textContent) >= 1, null, { timeout: 15000 })
  const cookies = await page.context().cookies()
  assert.ok(
    cookies.find((c) => c.name === `crossmint-refresh-token-${TEST_PROJECT_ID}` && c.value.length > 20),
    'the rotated refresh token is stored',
  )
  await page.screenshot({ path: path.join(outDir, 'demo-refreshed.png') })

  await page.click('#logout')
  await page.waitForFunction(() => document.body.dataset.state === 'signed-out', null, { timeout: 10000 })
  const after = await page.context().cookies()
  assert.equal(after.filter((c) => c.name.startsWith('crossmint-')).length, 0, 'logout cleared both cookies')
  const protectedAnswer = await page.evaluate(async () => (await fetch('/protected')).status)
  assert.equal(protectedAnswer, 401)
  await page.screenshot({ path: path.join(outDir, 'demo-signed-out.png') })
})
