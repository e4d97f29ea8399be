// The model graph in VS Code (code-server in headless Chromium, through playwright-core): open
// the model, run "Agrippa: Show Model Graph", see the webview draw the graph, click a node and
// land on its line in the editor; move the cursor and see the node highlighted; break the file
// and see the graph marked stale. Started by tests/test_graph_view.py (test_vscode_graph).
//
// Usage: node vscode_graph.js <code-server-url> <workspace-folder> <model-file-name> <out-dir>
// Prints "OK ..."/"FAIL ..." lines and "RESULT PASS|FAIL"; exit code 0 = pass.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');

const [url, folder, fileName, outDir] = process.argv.slice(2);
const T = Number(process.env.AGRIPPA_E2E_TIMEOUT_MS || 60000);
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  const text = fs.readFileSync(path.join(folder, fileName), 'utf8');
  const profile = fs.mkdtempSync(path.join(outDir, 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1600, height: 1000 },
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => { if (m.type() === 'error' || /agrippa|elk|graph/i.test(m.text())) log('console:', m.type(), m.text().slice(0, 300)); });
  page.on('pageerror', (e) => log('pageerror:', e.message));
  let failed = false;
  const check = (cond, msg) => { log((cond ? 'OK   ' : 'FAIL ') + msg); if (!cond) failed = true; return cond; };
  const shot = async (name) => { await page.screenshot({ path: path.join(outDir, name) }); log('screenshot', name); };
  const runCommand = async (title) => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: T });
    await input.fill('>' + title);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: T });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: T }).catch(() => undefined);
  };
  const cursorLine = async () => {
    const s = await page.locator('.statusbar-item', { hasText: /Ln \d+, Col \d+/ }).first().textContent({ timeout: T });
    return Number(/Ln (\d+)/.exec(s)[1]);
  };
  try {
    await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded', timeout: T });
    await page.locator('.monaco-workbench').waitFor({ timeout: T });
    const item = page.getByRole('treeitem', { name: new RegExp(fileName.replace(/\./g, '\\.')) });
    await item.first().waitFor({ timeout: T });
    await item.first().dblclick();
    await page.locator('.editor-instance .monaco-editor .view-lines', { hasText: '<model' }).first().waitFor({ timeout: T });
    log(`${fileName} open`);
    await page.locator('.statusbar-item', { hasText: /profile/ }).first().waitFor({ timeout: T }).catch(() => undefined);
    await runCommand('Agrippa: Show Model Graph');
    if (process.env.AGRIPPA_DEBUG_FRAMES) {
      await page.waitForTimeout(15000);
      for (const f of page.frames()) {
        const body = await f.evaluate(() => { let w = ''; try { new Worker(URL.createObjectURL(new Blob(['1']))); w = 'worker ok'; } catch (e) { w = 'worker ' + e; } let fn = ''; try { new Function('1'); fn = 'eval ok'; } catch (e) { fn = 'eval ' + e; } return (window.AgrippaGraphView ? 'LOADED ' : 'NOTLOADED ') + w + ' / ' + fn + ' ' + (document.querySelector('.agv-status') || {}).textContent; }).catch((e) => 'ERR ' + e);
        log('frame', f.url().slice(0, 120), body.replace(/\s+/g, ' '));
      }
    }
    const outer = page.frameLocator('iframe.webview.ready').first();
    const view = outer.frameLocator('#active-frame');
    const groups = view.locator('.agv-item.agv-group');
    check(await groups.first().waitFor({ timeout: T }).then(() => true, () => false), 'the graph webview draws the model');
    const n = await groups.count();
    check(n > 0, `${n} top-level groups in the webview`);
    await shot('graph-01-webview.png');
    // open the first group and click its first node: the editor lands on the node's line
    await groups.first().locator('.agv-toggle').first().click();
    const node = view.locator('.agv-item.agv-node').first();
    await node.waitFor({ timeout: T });
    const title = (await node.locator('.agv-title').textContent()).trim();
    const want = text.split('\n').findIndex((l) => l.includes(`title="${title}"`)) + 1;
    await node.click();
    let line = 0;
    for (let i = 0; i < 50 && line !== want; i++) { await page.waitForTimeout(200); line = await cursorLine(); }
    check(want > 0 && line === want, `clicking node "${title}" reveals line ${want} (cursor on line ${line})`);
    await shot('graph-02-clicked.png');
    // the cursor (moved by the click) highlights the node in the view
    const hl = view.locator('.agv-item.cursor');
    check(await hl.first().waitFor({ timeout: 10000 }).then(() => true, () => false), 'the node under the cursor is highlighted');
    // break the file: the view keeps the last good graph, marked stale
    await page.keyboard.press('End');
    await page.keyboard.type(' <oops');
    const banner = view.locator('.agv-banner:not(.hidden)');
    check(await banner.first().waitFor({ timeout: T }).then(() => true, () => false),
      `while the file has errors the graph is kept, marked stale: "${(await banner.first().textContent().catch(() => '')).slice(0, 80)}"`);
    await shot('graph-03-stale.png');
    for (let i = 0; i < 6; i++) await page.keyboard.press('Backspace');
    check(await view.locator('.agv-banner.hidden').first().waitFor({ state: 'attached', timeout: T }).then(() => true, () => false),
      'fixing the file brings the live graph back');
  } catch (e) {
    check(false, 'unexpected: ' + (e && e.stack || e));
    await shot('graph-error.png').catch(() => undefined);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`RESULT ${failed ? 'FAIL' : 'PASS'}`);
  process.exit(failed ? 1 : 0);
})();
