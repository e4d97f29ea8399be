// Drives the graph view's HTML (what `agrippa view` writes) in headless Chromium through
// playwright-core: the browser tests (tests/test_graph_view.py) and the benchmark
// (bench/bench_graph.py) run it. No network: the page is a file:// URL whose CSP allows none.
//
// Usage: node drive.js <mode: test|incremental|bench|edit> <model.html> <out-dir> [expect-json]
//   incremental: expanding/collapsing one block and an updated graph relayout only what changed
//   edit: <model.html> is a page built like the VS Code webview; expect-json names graph JSON
//         files delivered as 'graph' messages (bench/bench_graph.py)
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
  await page.waitForTimeout(1000);  // a user looks before clicking (the view warms elkjs up meanwhile)
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
  // one block of the top level, from its toggle: laid out alone (the rest cached), then from scratch
  const blocks = await page.evaluate(() => window.agrippaGraph.lastLayout.items
    .filter((i) => i.kind === 'group' && i.depth === 0 && i.group.kind === 'block').map((i) => i.group.id));
  if (blocks.length) {
    await page.evaluate(() => { window.agrippaGraph.state.expanded.clear(); return window.agrippaGraph.relayout(false); });
    result.toggleBlock = await benchToggle(page, blocks[Math.floor(blocks.length / 2)], false);
    result.toggleBlockScratch = await benchToggle(page, blocks[Math.floor(blocks.length / 3)], true);
  }
  if (!rep && blocks.length) result.expandBlock = await expandOne(blocks[0]);
  console.log('BENCH ' + JSON.stringify(result));
  return false;
}

/** In the page: click a group's toggle, time to the painted result. */
const clickToggle = (page, id) => page.evaluate(async (g) => {
  const app = window.agrippaGraph;
  const t = performance.now();
  document.querySelector(`[data-id="g:${g}"] .agv-toggle`).dispatchEvent(new MouseEvent('click', { bubbles: true }));
  await (app.idle ? app.idle() : app.pending);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const lay = app.lastLayout;
  return { ms: performance.now() - t, layoutMs: lay.ms, items: lay.items.length, stats: lay.stats || null };
}, id);

/** Expand then collapse one block from its toggle; with `clear`, nothing cached beforehand. */
async function benchToggle(page, id, clear) {
  if (clear) await page.evaluate(() => window.AgrippaGraphView.clearLayoutCache && window.AgrippaGraphView.clearLayoutCache());
  const expand = await clickToggle(page, id);
  const collapse = await clickToggle(page, id);
  return { expand, collapse };
}

async function runIncremental(page) {
  let failed = false;
  const check = (cond, msg) => { log((cond ? 'OK   ' : 'FAIL ') + msg); if (!cond) failed = true; return cond; };
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await open(page);
  const snap = () => page.evaluate(() => Object.fromEntries(window.agrippaGraph.lastLayout.items.map((i) => [i.id, [i.x, i.y, i.width, i.height]])));
  const before = await snap();
  const blocks = await page.evaluate(() => window.agrippaGraph.lastLayout.items
    .filter((i) => i.kind === 'group' && i.group.kind === 'block' && i.group.nodes.length > 1).map((i) => i.group.id));
  check(blocks.length >= 2, `${blocks.length} top-level blocks`);
  const a = blocks[Math.floor((blocks.length - 1) / 2)];
  const b = blocks[blocks.length - 1];
  const open1 = await clickToggle(page, a);
  const st = open1.stats;
  const laid = st.elk.filter((l) => l !== 'root');
  check(laid.length === 1 && laid[0] === 'g:' + a, `expanding "${a}" lays out that block only (elk: ${st.elk.join(', ')})`);
  check(st.elk.includes('root') || st.room.includes('root'), `the top level is placed (${st.room.length ? 'room made' : 'by elk'})`);
  if (expect.room) check(st.room.includes('root') && !st.elk.includes('root'), 'a large top level makes room instead of a new layout');
  const geo = await page.evaluate((g) => {
    const lay = window.agrippaGraph.lastLayout;
    const inner = window.agrippaGraph.ix.groups.get(g).nodes.map((n) => 'n:' + n.id);
    const shown = inner.filter((id) => lay.items.some((i) => i.id === id)).length;
    const top = lay.items.filter((i) => i.depth === 0);
    let overlaps = 0;
    for (const p of top) for (const q of top) {
      if (p !== q && p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height) overlaps++;
    }
    // an edge cut at the block's border continues inside from where it arrived
    const near = (u, v) => Math.abs(u.x - v.x) < 3 && Math.abs(u.y - v.y) < 3;
    const into = lay.edges.filter((e) => e.target === 'g:' + g && !e.arrow);
    const joined = into.filter((e) => lay.edges.some((f) => f.source === 'g:' + g && near(f.points[0], e.points[e.points.length - 1])));
    return { inner: inner.length, shown, overlaps, into: into.length, joined: joined.length };
  }, a);
  check(geo.shown === geo.inner && geo.inner > 0, `its ${geo.inner} nodes are drawn (${geo.shown})`);
  check(geo.overlaps === 0, `no top-level boxes overlap (${geo.overlaps})`);
  check(geo.into > 0 && geo.joined === geo.into, `edges into the block connect inside (${geo.joined}/${geo.into})`);
  const close1 = await clickToggle(page, a);
  check(close1.stats.elk.length === 0 && close1.stats.room.length === 0, `collapsing lays out nothing (cached: ${close1.stats.cached.join(', ')})`);
  const after = await snap();
  check(JSON.stringify(after) === JSON.stringify(before), 'collapsing restores the earlier layout exactly');
  // two blocks open, then updated graphs: an attribute changed (nothing moves), a title changed in one block
  await clickToggle(page, a);
  await clickToggle(page, b);
  const opened = await snap();
  const update = (g, how) => page.evaluate(async ([id, how]) => {
    const app = window.agrippaGraph;
    const graph = JSON.parse(JSON.stringify(app.ix.graph));
    const find = (grp) => grp.id === id ? grp : grp.children.map(find).find(Boolean);
    const node = find(graph.root).nodes[0];
    if (how === 'attr') node.attributes = { ...node.attributes, edited: '1' };
    else node.title += ' (renamed, longer)';
    app.onMessage({ type: 'graph', graph });
    await app.idle();
    return app.lastLayout.stats;
  }, [g, how]);
  const s1 = await update(a, 'attr');
  check(s1.elk.length === 0 && s1.room.length === 0, `an attribute edit lays out nothing (elk: ${s1.elk.join(', ') || 'none'})`);
  check(JSON.stringify(await snap()) === JSON.stringify(opened), 'and nothing moves');
  const s2 = await update(a, 'title');
  check(s2.elk.includes('g:' + a) && !s2.elk.includes('g:' + b) && s2.cached.includes('g:' + b),
    `a renamed node relayouts its block only (elk: ${s2.elk.join(', ')}; room: ${s2.room.join(', ') || 'none'})`);
  const now = await snap();
  const rel = (m, id) => [m[id][0] - m['g:' + b][0], m[id][1] - m['g:' + b][1], m[id][2], m[id][3]].join();
  const inB = await page.evaluate((g) => window.agrippaGraph.ix.groups.get(g).nodes.map((n) => 'n:' + n.id), b);
  const kept = inB.filter((id) => opened[id] && now[id] && rel(opened, id) === rel(now, id));
  check(kept.length === inB.length, `the other open block keeps its layout (${kept.length}/${inB.length} unmoved inside it)`);
  const above = Object.keys(opened).filter((id) => opened[id][1] + opened[id][3] < opened['g:' + a][1]);
  check(!expect.room || above.every((id) => JSON.stringify(opened[id]) === JSON.stringify(now[id])),
    `the boxes above the edited block stay put (${above.length})`);
  check(errors.length === 0, `no page errors ${errors.join('; ')}`);
  return failed;
}

/** The webview's way: 'graph' messages; the time from posting an updated graph to its paint. */
async function runEdit(page) {
  const graphs = expect.graphs.map((f) => fs.readFileSync(f, 'utf8'));
  await page.goto('file://' + path.resolve(htmlPath));
  await page.evaluate((texts) => { window.__graphs = texts.map((t) => JSON.parse(t)); }, graphs);
  const deliver = (i) => page.evaluate(async (k) => {
    const t = performance.now();
    const got = new Promise((r) => window.addEventListener('message', r, { once: true }));
    window.postMessage({ type: 'graph', graph: window.__graphs[k], stale: false }, '*');
    await got;  // the view's own listener, added first, has run
    const app = window.agrippaGraph;
    await (app.idle ? app.idle() : app.pending);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return { ms: performance.now() - t, stats: app.lastLayout.stats };
  }, i);
  const first = await deliver(0);
  await page.waitForTimeout(1000);
  for (const g of expect.open || []) {
    await page.evaluate((id) => window.agrippaGraph.expand(id), g);
  }
  await page.evaluate(() => window.agrippaGraph.pending);
  const edits = [];
  for (let i = 1; i < graphs.length; i++) edits.push(await deliver(i));
  console.log('BENCH ' + JSON.stringify({ first, edits, items: await page.evaluate(() => window.agrippaGraph.lastLayout.items.length) }));
  return false;
}

(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  const { context, profile } = await launch();
  let failed = true;
  try {
    const page = context.pages()[0] || (await context.newPage());
    const run = { bench: runBench, edit: runEdit, incremental: runIncremental, test: runTest }[mode];
    failed = await run(page);
  } catch (e) {
    log('FAIL ' + (e && e.stack || e));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`RESULT ${failed ? 'FAIL' : 'PASS'}`);
  process.exit(failed ? 1 : 0);
})();
