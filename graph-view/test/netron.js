// Times Netron (served by `netron.start`, bench/bench_graph.py --netron) to its first drawn
// graph in headless Chromium: from navigation until its SVG holds node boxes. Netron may ask
// the network for updates or telemetry; those requests are blocked here (only 127.0.0.1 loads).
// Usage: node netron.js <url> <out-dir>   Prints "NETRON {json}".
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');

const [url, outDir] = process.argv.slice(2);
(async () => {
  const profile = fs.mkdtempSync(path.join(outDir, 'chromium-netron-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    await page.route('**/*', (r) => (r.request().url().startsWith('http://127.0.0.1') ? r.continue() : r.abort()));
    const t = Date.now();
    await page.goto(url);
    // its first-run consent prompt is accepted at once (the click is inside the measured time)
    const accept = page.getByRole('button', { name: 'Accept' });
    if (await accept.waitFor({ timeout: 15000 }).then(() => true, () => false)) await accept.click();
    // Netron replaces window.eval, so wait through locators (playwright's isolated world)
    const nodeBoxes = page.locator('svg g.node');
    await nodeBoxes.first().waitFor({ state: 'attached', timeout: 240000 });
    const boxesMs = Date.now() - t;
    // ...and laid out and shown: the body leaves its welcome/spinner state
    for (let i = 0; i < 4800; i++) {
      const cls = (await page.locator('body').getAttribute('class')) || '';
      if (!/welcome|spinner/.test(cls)) break;
      await page.waitForTimeout(50);
    }
    const firstGraphMs = Date.now() - t;
    const nodes = await nodeBoxes.count();
    await page.screenshot({ path: path.join(outDir, 'netron.png') });
    console.log('NETRON ' + JSON.stringify({ firstGraphMs, boxesMs, nodes, body: await page.locator('body').getAttribute('class') }));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
})();
