// Drives the graph view's HTML (what `agrippa view` writes) in headless Chromium through
// playwright-core: the browser tests (tests/test_graph_view.py) and the benchmark
// (bench/bench_graph.py) run it. No network: the page is a file:// URL whose CSP allows none.
//
// Usage: node drive.js <mode: test|bench> <model.html> <out-dir> [expect-json]
// Env:   PLAYWRIGHT_CORE (path of playwright-core), CHROMIUM (browser binary)
// Prints "OK ..."/"FAIL ..." lines and "RESULT PASS|FAIL" (test), or "BENCH {json}" (bench).
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');

const [mode, htmlPath, outDir, expectJson] = process.argv.slice(2);
const expect = expectJson ? JSON.parse(expectJson) : {};
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

async function launch() {
  const profile = fs.mkdtempSync(path.join(outDir, 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  return { context, profile };
}

/** Open the page and wait for the first paint of the laid-out graph; returns ms from navigation. */
async function open(page) {
  const requests = [];
  page.on('request', (r) => { if (!/^(file|data|blob):/.test(r.url())) requests.push(r.url()); });
  const start = Date.now();
  await page.goto('file://' + path.resolve(htmlPath));
  await page.waitForFunction(() => window.agrippaGraph && window.agrippaGraph.lastLayout && window.agrippaGraphFirstDraw,
    null, { timeout: 60000, polling: 'raf' });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const wall = Date.now() - start;
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const paints = performance.getEntriesByType('paint').map((p) => [p.name, Math.round(p.startTime)]);
    const marks = Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)]));
    return { layoutMs: window.agrippaGraph.lastLayout.ms, firstDrawMs: window.agrippaGraphFirstDraw, domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
      now: performance.now(), paints, marks };
  });
  return { wall, timing, requests };
}

const topGroups = (page) => page.evaluate(() =>
  window.agrippaGraph.lastLayout.items.filter((i) => i.kind === 'group' && i.depth === 0).length);

async function firstGroup(page, kind) {
  return page.evaluate((k) => {
    const it = window.agrippaGraph.lastLayout.items.find((i) => i.kind === 'group' && i.group.kind === k);
    return it ? it.group.id : null;
  }, kind);
}

async function runTest(page) {
  let failed = false;
  const check = (cond, msg) => { log((cond ? 'OK   ' : 'FAIL ') + msg); if (!cond) failed = true; return cond; };
  const shot = async (name) => { const p = path.join(outDir, name); await page.screenshot({ path: p }); log('screenshot', p); };
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const { wall, requests } = await open(page);
  log(`first paint after ${wall} ms`);
  check(requests.length === 0, `no network requests (${requests.join(', ') || 'none'})`);
  const n = await topGroups(page);
  if (expect.topGroups !== undefined) check(n === expect.topGroups, `${n} top-level groups (expected ${expect.topGroups})`);
  check((await page.locator('.agv-item.agv-group').count()) === n, 'the top-level groups are drawn as boxes');
  await shot(expect.prefix + '-collapsed.png');
  // expand a rep group with its toggle: its copies appear
  const rep = await firstGroup(page, 'rep');
  if (check(!!rep, 'there is a rep group')) {
    const copies = await page.evaluate((id) => window.agrippaGraph.ix.groups.get(id).children.length, rep);
    await page.locator(`[data-id="g:${rep}"] .agv-toggle`).first().click();
    await page.waitForFunction((id) => window.agrippaGraph.lastLayout.items.some((i) => i.id === 'g:' + id && i.expanded), rep);
    const shown = await page.locator('.agv-item.kind-copy').count();
    check(shown === copies && copies > 0, `expanding "${rep}" shows its ${copies} copies (${shown} drawn)`);
    // open the first copy too: its nodes are drawn
    const copy = await page.evaluate((id) => window.agrippaGraph.ix.groups.get(id).children[0].id, rep);
    await page.locator(`[data-id="g:${copy}"] .agv-toggle`).first().click();
    await page.waitForFunction((id) => window.agrippaGraph.lastLayout.items.some((i) => i.id === 'g:' + id && i.expanded), copy);
    const nodes = await page.locator('.agv-item.agv-node').count();
    check(nodes > 0, `the opened copy shows ${nodes} nodes`);
    const labels = await page.locator('.agv-edge-label').count();
    check(labels > 0, `${labels} edges are labelled with shapes`);
    await page.locator('.agv-fit').click();
    await shot(expect.prefix + '-layer-expanded.png');
    // double-click drills into the copy; the breadcrumb goes back
    await page.locator(`[data-id="g:${copy}"]  .agv-group-title`).first().dblclick();
    await page.waitForFunction((id) => window.agrippaGraph.state.root.id === id, copy);
    check(true, 'double-click drills into the copy');
    await page.locator('.agv-crumbs a').first().click();
    await page.waitForFunction(() => window.agrippaGraph.state.root === window.agrippaGraph.ix.graph.root);
    check(true, 'the breadcrumb goes back to the model');
  }
  // search for a node by name
  if (expect.search) {
    await page.locator('.agv-search input').fill(expect.search);
    const results = await page.locator('.agv-results .agv-result').count();
    check(results > 0, `searching "${expect.search}" finds ${results} results`);
    const nodeResult = page.locator('.agv-results .agv-result', { hasText: expect.search }).first();
    await nodeResult.click();
    await page.waitForFunction((t) => (document.querySelector('.agv-side h3')?.textContent ?? '').includes(t),
      expect.search, { timeout: 10000 }).catch(() => undefined);
    const side = await page.locator('.agv-side').innerText();
    check(side.includes(expect.search), 'the sidebar shows the node found');
    check(/ONNX NAMES|ONNX names/i.test(side), 'the sidebar lists ONNX names');
    await shot(expect.prefix + '-search.png');
  }
  // export: SVG and PNG of the current view
  const svg = await page.evaluate(() => window.agrippaGraph.export('svg'));
  check(svg.startsWith('<svg') && svg.includes('agv-edge'), `SVG export (${svg.length} bytes)`);
  fs.writeFileSync(path.join(outDir, expect.prefix + '-export.svg'), svg);
  const png = await page.evaluate(() => window.agrippaGraph.export('png'));
  check(png.startsWith('png:') && Number(png.slice(4)) > 1000, `PNG export (${png})`);
  check(errors.length === 0, `no page errors ${errors.join('; ')}`);
  return failed;
}

async function runBench(page) {
  const first = await open(page);
  const top = await topGroups(page);
  const rep = await firstGroup(page, 'rep');
  const expandOne = async (id) => {
    const t = Date.now();
    await page.evaluate((g) => window.agrippaGraph.expand(g), id);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    return { wall: Date.now() - t, layoutMs: await page.evaluate(() => window.agrippaGraph.lastLayout.ms),
      items: await page.evaluate(() => window.agrippaGraph.lastLayout.items.length) };
  };
  const result = { firstPaintWallMs: first.wall, firstDrawMs: first.timing.firstDrawMs,
    firstLayoutMs: first.timing.layoutMs, paints: first.timing.paints, marks: first.timing.marks,
    topGroups: top, requests: first.requests.length };
  if (rep) {
    result.expandRep = await expandOne(rep);
    const copy = await page.evaluate((id) => window.agrippaGraph.ix.groups.get(id).children[0].id, rep);
    result.expandLayer = await expandOne(copy);
  }
  if (!rep) {
    const block = await firstGroup(page, 'block');
    if (block) result.expandBlock = await expandOne(block);
  }
  console.log('BENCH ' + JSON.stringify(result));
  return false;
}

(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  const { context, profile } = await launch();
  let failed = true;
  try {
    const page = context.pages()[0] || (await context.newPage());
    failed = mode === 'bench' ? await runBench(page) : await runTest(page);
  } catch (e) {
    log('FAIL ' + (e && e.stack || e));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`RESULT ${failed ? 'FAIL' : 'PASS'}`);
  process.exit(failed ? 1 : 0);
})();
