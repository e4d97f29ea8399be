// Drives VS Code (code-server in headless Chromium, through playwright-core) with the Agrippa
// extension installed, the way a person would: open the model from the Explorer, see the code
// lens on <model> and the semantic colours (with semantic highlighting on, off, on), hover an
// output, run "Agrippa: Compile to ONNX" and "Agrippa: Show Expanded Model" from the Command
// Palette, break a reference and see the diagnostic, "Format Document" a misindented file with
// wrapped attributes (AGRIPPA_E2E_FORMAT, written by the harness). Started by tests/e2e/harness.py (run_vscode), which sets up code-server.
//
// Usage: node vscode_e2e.js <code-server-url> <workspace-folder> <model-file-name> <out-dir>
// Env:   PLAYWRIGHT_CORE (path of playwright-core), CHROMIUM (browser binary),
//        AGRIPPA_E2E_TIMEOUT_MS (per step, default 60000), AGRIPPA_E2E_TRAIN=1 (also train)
// Prints "OK ..."/"FAIL ..." lines, "RESULT PASS|FAIL"; exit code 0 = pass. Screenshots in out-dir.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');

const [url, folder, fileName, outDir] = process.argv.slice(2);
const T = Number(process.env.AGRIPPA_E2E_TIMEOUT_MS || 60000);
// AGRIPPA_E2E_TRAIN=1: train to the end; =cancel: press Cancel on the progress notification
const TRAIN = ['1', 'cancel'].includes(process.env.AGRIPPA_E2E_TRAIN || '') ? process.env.AGRIPPA_E2E_TRAIN : '';
const TRAIN_TIMEOUT = Number(process.env.AGRIPPA_E2E_TRAIN_TIMEOUT_MS || 240000);
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const SHAPE = /\[\s*\d+(\s*,\s*\d+)*\s*\]/; // e.g. [4, 16]

/** 1-based line and column of the character after `prefix` in the first line matching `re`. */
function locate(text, re) {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = re.exec(lines[i]);
    if (m) return { line: i + 1, m, lineText: lines[i], index: m.index };
  }
  return undefined;
}

(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  const modelPath = path.join(folder, fileName);
  const text = fs.readFileSync(modelPath, 'utf8');
  const profile = fs.mkdtempSync(path.join(outDir, 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => log('pageerror:', e.message));
  let failed = false;
  const check = (cond, msg) => {
    log((cond ? 'OK   ' : 'FAIL ') + msg);
    if (!cond) failed = true;
    return cond;
  };
  const shot = async (name) => {
    const p = path.join(outDir, name);
    await page.screenshot({ path: p });
    log('screenshot', p);
  };
  const visible = (locator, timeout = T) => locator.first().waitFor({ timeout }).then(() => true, () => false);

  // Command Palette: F1, type, Enter on the matching entry
  const runCommand = async (title) => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: T });
    await input.fill('>' + title);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: T });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: T }).catch(() => undefined);
  };
  // Go to line:column through the Quick Open ":" mode
  const goTo = async (line, column) => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: T });
    await input.fill(`:${line}:${column}`);
    await page.waitForTimeout(200);
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: T }).catch(() => undefined);
  };

  // computed colour of the first token span containing `token` on the line containing `needle`
  // (in the first editor: the model file)
  const colourOf = (needle, token) => page.evaluate(([needle, token]) => {
    const ed = document.querySelector('.editor-instance .monaco-editor');
    for (const line of ed ? ed.querySelectorAll('.view-line') : []) {
      if (!line.textContent.replace(/\u00a0/g, ' ').includes(needle)) continue;
      for (const span of line.querySelectorAll('span > span')) {
        if (span.textContent.includes(token)) return getComputedStyle(span).color;
      }
    }
    return null;
  }, [needle, token]);
  const waitFor = async (pred, ms) => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await pred();
      if (v || Date.now() > end) return v;
      await page.waitForTimeout(250);
    }
  };
  // the workspace's .vscode/settings.json (VS Code watches it): set or remove (value undefined) one key
  const settingsFile = path.join(folder, '.vscode', 'settings.json');
  const setSetting = (key, value) => {
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    const s = fs.existsSync(settingsFile) ? JSON.parse(fs.readFileSync(settingsFile, 'utf8')) : {};
    if (value === undefined) delete s[key];
    else s[key] = value;
    fs.writeFileSync(settingsFile, JSON.stringify(s, null, 2));
  };

  try {
    log('opening the workbench');
    await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded', timeout: T });
    await page.locator('.monaco-workbench').waitFor({ timeout: T });

    // 1) open the model from the Explorer
    const item = page.getByRole('treeitem', { name: new RegExp(fileName.replace(/\./g, '\\.')) });
    await item.first().waitFor({ timeout: T });
    await item.first().dblclick();
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await editor.locator('.view-lines', { hasText: '<model' }).waitFor({ timeout: T });
    log(`${fileName} open`);
    check(await visible(page.locator('.statusbar-item', { hasText: /^Agrippa$/ })), 'language mode in the status bar is "Agrippa"');
    // the extension asks the server for the profiles: the status bar item appears when it answered
    const profileItem = page.locator('.statusbar-item', { hasText: /profile|no profile/ });
    check(await visible(profileItem), `bindings profile in the status bar: "${(await profileItem.first().textContent().catch(() => ''))?.trim()}"`);
    // the grammar: op names get their own token colour (a span of their own)
    const op = locate(text, /\bop="([^"]+)"/);
    if (op) {
      const opSpan = editor.locator('.view-line span span', { hasText: new RegExp(`^${op.m[1]}$`) });
      check(await visible(opSpan, 5000), `op name "${op.m[1]}" is a token of its own`);
    }
    await shot('01-open.png');

    // 1a) code lens on <model>: ▶ Train | Compile | N parameters
    const modelLens = editor.locator('.codelens-decoration', { hasText: 'Compile' }).filter({ hasText: /\d[\d,_ ]*\s+parameters/ });
    const lensOk = await visible(modelLens);
    const lensText = lensOk ? (await modelLens.first().innerText()).replace(/\s+/g, ' ').trim() : '';
    check(lensOk && /Train/.test(lensText), `code lens on <model> with the parameter count: "${lensText}"`);
    await shot('01a-codelens.png');

    // 1b) semantic colours: a <params name> is a plain string to the TextMate grammar; the
    // server's `parameter` token gives it the theme's variable colour. Compare it with a
    // string no token covers (init="zeros"), with semantic highlighting on, off, on again.
    const param = locate(text, /<params\b[^>]*?\bname="([^"]+)"[^>]*\binit="([^"]+)"/) || locate(text, /<params\b[^>]*?\bname="([^"]+)"/);
    const plain = locate(text, /\binit="([^"]+)"/);
    if (check(!!(param && plain), 'the model has a <params name="..."> and an init="..." string')) {
      const pNeedle = `name="${param.m[1]}"`;
      const zNeedle = `init="${plain.m[1]}"`;
      const colours = async () => [await colourOf(pNeedle, param.m[1]), await colourOf(zNeedle, plain.m[1])];
      let [pc, zc] = await waitFor(async () => { const c = await colours(); return c[0] && c[1] && c[0] !== c[1] ? c : null; }, 30000) || await colours();
      check(!!pc && pc !== zc, `semantic token colours parameter "${param.m[1]}" ${pc}, unlike the string "${plain.m[1]}" ${zc}`);
      await shot('01b-semantic.png');
      setSetting('editor.semanticHighlighting.enabled', false);
      const off = await waitFor(async () => { const c = await colours(); return c[0] && c[0] === c[1] ? c : null; }, 20000);
      check(!!off, `with editor.semanticHighlighting.enabled false (TextMate only) "${param.m[1]}" is a plain string again: ${off ? off[0] : (await colours()).join(' vs ')}`);
      await shot('01c-semantic-off.png');
      setSetting('editor.semanticHighlighting.enabled', undefined);
      const back = await waitFor(async () => { const c = await colours(); return c[0] && c[0] === pc ? c : null; }, 20000);
      check(!!back, `... and ${pc} once it is on again`);
    }
    // the semantic token under the cursor, as VS Code's token inspector shows it: an op name
    if (op) {
      const col = op.lineText.indexOf(`op="${op.m[1]}"`) + 'op="'.length + 2; // 1-based, inside the name
      await goTo(op.line, col);
      await runCommand('Developer: Inspect Editor Tokens and Scopes');
      const inspect = page.locator('.token-inspect-widget', { hasText: /semantic token type/ });
      const inspOk = await visible(inspect, 10000);
      const inspText = inspOk ? (await inspect.first().innerText()).replace(/\s+/g, ' ') : '';
      // "semantic token type op ... foreground support.function ...": the colour comes from the
      // theme rule the extension's semanticTokenScopes entry (support.function.op.agrippa) matches
      check(/semantic token type\s*op\b(?:(?!textmate scopes)[\s\S])*foreground\s*support\.function/.test(inspText),
        `token inspector on "${op.m[1]}": semantic token type op, foreground from the support.function rule: ${inspText.slice(0, 240)}`);
      await shot('01d-inspect-op-token.png');
      await page.keyboard.press('Escape');
      await page.keyboard.press('Escape');
    }

    // 2) hover an output's name: its shape
    const out = locate(text, /<output\b[^>]*?\bname="([^"]+)"/);
    if (check(!!out, 'the model has an <output name="...">')) {
      const col = out.lineText.indexOf(`name="${out.m[1]}"`, out.index) + 'name="'.length + 1; // 1-based
      await goTo(out.line, col + 1);
      await editor.locator('.view-lines').waitFor({ timeout: T });
      const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: SHAPE });
      let hoverOk = false;
      for (let attempt = 0; attempt < 4 && !hoverOk; attempt++) {
        const cursor = await editor.locator('.cursors-layer .cursor').first().boundingBox();
        if (cursor) {
          await page.mouse.move(cursor.x + 200, cursor.y + 200);
          await page.mouse.move(cursor.x + 3, cursor.y + cursor.height / 2, { steps: 5 });
        }
        hoverOk = await visible(hover, 5000);
        if (!hoverOk && attempt === 3) {
          // keyboard: Show or Focus Hover
          await runCommand('Show or Focus Hover');
          hoverOk = await visible(hover, 5000);
        }
      }
      const hoverText = hoverOk ? (await hover.first().innerText()).replace(/\s+/g, ' ') : '';
      check(hoverOk, `hover on output "${out.m[1]}" (line ${out.line}) shows a shape: ${hoverText.slice(0, 160)}`);
      await shot('02-hover.png');
      await page.mouse.move(5, 450);
      await page.keyboard.press('Escape');
    }

    // 3) Agrippa: Compile to ONNX from the Command Palette
    await runCommand('Agrippa: Compile to ONNX');
    log('ran "Agrippa: Compile to ONNX"');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /\.onnx|Compiled|compiled/ });
    const toastOk = await visible(toast);
    const toastText = toastOk ? (await toast.first().innerText()).replace(/\s+/g, ' ') : '';
    check(toastOk, `notification about the compiled model: ${toastText.slice(0, 160)}`);
    let onnx;
    for (let i = 0; i < 100 && !onnx; i++) {
      onnx = fs.readdirSync(folder).find((f) => f.endsWith('.onnx'));
      if (!onnx) await page.waitForTimeout(200);
    }
    check(!!onnx, `an .onnx file appeared in the workspace: ${onnx}`);
    await shot('03-compiled.png');

    // 3a) Agrippa: Show Expanded Model: a read-only agrippa-expanded: document beside, with the
    // mangled names (W1$1)
    await runCommand('Agrippa: Show Expanded Model');
    const expEditor = page.locator('.monaco-editor[data-uri^="agrippa-expanded:"]');
    const expText = expEditor.locator('.view-lines', { hasText: /\w\$\d+/ });
    const expOk = await visible(expText);
    const expLines = expOk ? (await expText.first().innerText()).replace(/\u00a0/g, ' ') : '';
    const mangled = (expLines.match(/[\w ]+\$\d+/g) || []).map((x) => x.trim());
    const uri = expOk ? await expEditor.first().getAttribute('data-uri') : '';
    check(expOk && mangled.length > 0, `expanded view (${uri}) shows mangled names: ${mangled.slice(0, 6).join(', ')}`);
    const expTab = page.locator('.tab.active', { hasText: fileName });
    check(await visible(expTab, 5000) && (await page.locator('.tab', { hasText: fileName }).count()) >= 2,
      `a second "${fileName}" tab holds the expanded document`);
    await shot('03a-expanded.png');
    // close it with its tab's close button (the group goes with it)
    await page.locator('.editor-group-container').filter({ has: expEditor }).locator('.tab.active .codicon-close').first().click({ force: true });
    check(await expEditor.first().waitFor({ state: 'detached', timeout: 10000 }).then(() => true, () => false), 'the expanded view closes');

    // 4) optional: Agrippa: Compile and Train (progress notification with the loss)
    if (TRAIN) {
      await runCommand('Agrippa: Compile and Train');
      const progress = page.locator('.notifications-toasts .notification-toast', { hasText: /loss/ });
      const progOk = await visible(progress, TRAIN_TIMEOUT);
      check(progOk, `training progress shows the loss: ${progOk ? (await progress.first().innerText()).replace(/\s+/g, ' ').slice(0, 160) : ''}`);
      await shot('04-training.png');
      if (TRAIN === 'cancel' && progOk) {
        await progress.first().hover();
        await progress.first().getByRole('button', { name: 'Cancel' }).click();
        log('pressed Cancel');
      }
      const end = TRAIN === 'cancel' ? /Training stopped|Training cancelled|training cancelled/ : /Training done|final loss/;
      const done = page.locator('.notifications-toasts .notification-toast', { hasText: end });
      const doneOk = await visible(done, TRAIN_TIMEOUT);
      check(doneOk, `training ${TRAIN === 'cancel' ? 'stopped' : 'finished'}: ${doneOk ? (await done.first().innerText()).replace(/\s+/g, ' ').slice(0, 160) : ''}`);
      await shot('05-trained.png');
    }

    // 5) break a reference: a diagnostic on that line
    const ref = locate(text, /\bsrc="([^"]+)"/);
    if (check(!!ref, 'the model has a src="..." reference')) {
      const col = ref.lineText.indexOf(`src="${ref.m[1]}"`, ref.index) + 'src="'.length + ref.m[1].length + 1;
      await goTo(ref.line, col);
      await page.keyboard.type('_missing');
      const broken = `${ref.m[1]}_missing`;
      await editor.locator('.view-lines', { hasText: broken }).waitFor({ timeout: T });
      check(await visible(editor.locator('.squiggly-error'), T), 'error squiggle in the editor');
      await page.keyboard.press('Control+Shift+M');
      const problem = page.locator('.markers-panel .monaco-list-row', { hasText: broken });
      const probOk = await visible(problem, T);
      const probText = probOk ? (await problem.first().innerText()).replace(/\s+/g, ' ') : '';
      check(probOk, `Problems panel names "${broken}": ${probText.slice(0, 160)}`);
      check(!probOk || probText.includes(`[Ln ${ref.line}`), `... on line ${ref.line}`);
      await shot('06-diagnostic.png');
    }

    // 6) an .xml file whose root is <model> opens as Agrippa; typing a start tag closes it
    const xmlName = process.env.AGRIPPA_E2E_XML;
    if (xmlName) {
      const xmlItem = page.getByRole('treeitem', { name: new RegExp(xmlName.replace(/\./g, '\\.')) });
      await xmlItem.first().dblclick();
      const tab = page.locator('.tab.active', { hasText: xmlName });
      await tab.waitFor({ timeout: T });
      const langOk = await visible(page.locator('.statusbar-item', { hasText: /^Agrippa$/ }));
      check(langOk, `${xmlName} (root <model>) opens with language mode "Agrippa"`);
      check(await visible(page.locator('.statusbar-item', { hasText: /profile/ }), 10000), '... and the profile in the status bar');
      const lines = fs.readFileSync(path.join(folder, xmlName), 'utf8').split('\n');
      const modelLine = lines.findIndex((l) => /<model\b/.test(l)) + 1;
      await goTo(modelLine, lines[modelLine - 1].length + 1);
      await page.keyboard.press('Enter');
      await page.keyboard.type('<desc>');
      const xmlEditor = page.locator('.editor-instance .monaco-editor').first();
      const closed = await visible(xmlEditor.locator('.view-line', { hasText: /<desc><\/desc>/ }), 10000);
      check(closed, 'typing <desc> inserts </desc>');
      await shot('07-xml-model.png');
      await page.keyboard.press('Control+Z');
    }

    // 6b) Format Document keeps attribute line breaks and fixes the indentation
    const fmtName = process.env.AGRIPPA_E2E_FORMAT;
    if (fmtName) {
      const fmtPath = path.join(folder, fmtName);
      const before = fs.readFileSync(fmtPath, 'utf8');
      const fmtItem = page.getByRole('treeitem', { name: new RegExp(fmtName.replace(/\./g, '\\.')) });
      await fmtItem.first().dblclick();
      await page.locator('.tab.active', { hasText: fmtName }).waitFor({ timeout: T });
      const fmtEditor = page.locator(`.monaco-editor[data-uri$="${fmtName}"]`).first();
      await fmtEditor.locator('.view-lines', { hasText: '<model' }).waitFor({ timeout: T });
      await shot('07a-format-before.png');
      await runCommand('Format Document');
      await page.keyboard.press('Control+S');
      const after = await waitFor(async () => {
        const t = fs.readFileSync(fmtPath, 'utf8');
        return t !== before ? t : null;
      }, T) || before;
      await shot('07b-formatted.png');
      const lines = after.split('\n');
      const at = (re) => lines.findIndex((l) => re.test(l));
      const indent = (i) => (i >= 0 ? /^\s*/.exec(lines[i])[0] : null);
      const unit = indent(at(/^\s*<import from=/));
      const blockI = at(/^\s*<block /), nodeI = at(/^\s*<node /), inputI = at(/^\s*<input /), paramsI = at(/^\s*<params /);
      // and the editor shows those lines: the wrapped <node ...> start tag, re-indented
      const domLines = () => fmtEditor.evaluate((ed) => [...ed.querySelectorAll('.view-line')].map((l) => l.textContent.replace(/\u00a0/g, ' ')));
      const wrappedOk = nodeI >= 0 && !!(await waitFor(async () => {
        const shown = await domLines();
        return shown.includes(lines[nodeI]) && shown.includes(lines[nodeI + 1]);
      }, 10000));
      check(wrappedOk && nodeI >= 0 && !/title=/.test(lines[nodeI]) && /^\s+title="/.test(lines[nodeI + 1] || '') &&
        paramsI >= 0 && !/dim=/.test(lines[paramsI]) && /^\s+dim="/.test(lines[paramsI + 1] || ''),
        `Format Document kept the attribute line breaks: ${JSON.stringify(lines[nodeI])} / ${JSON.stringify((lines[nodeI + 1] || '').trim())}`);
      check(!!unit && unit.length > 0 && indent(blockI) === unit && indent(nodeI) === unit.repeat(2) && indent(inputI) === unit.repeat(3) &&
        indent(paramsI) === unit.repeat(3) && lines[nodeI + 1].length - lines[nodeI + 1].trimStart().length > unit.length * 2,
        `... and fixed the indentation (unit ${JSON.stringify(unit)}: <block> ${JSON.stringify(indent(blockI))}, <node> ${JSON.stringify(indent(nodeI))}, <input> ${JSON.stringify(indent(inputI))})`);
    }

    // 7) an interpreter without the server: the extension says so and offers to install it
    const barePython = process.env.AGRIPPA_E2E_BARE_PYTHON;
    if (barePython) {
      // through the Settings editor, as a user would
      await runCommand('Preferences: Open User Settings');
      const search = page.locator('.settings-editor .suggest-input-container textarea, .settings-editor .suggest-input-container input');
      await search.first().waitFor({ timeout: T });
      await page.waitForTimeout(500); // the search box has the focus once the editor is up
      await page.keyboard.type('agrippa.server.python');
      // a machine-overridable setting: code-server lists it under "Remote", not "User"
      const remoteTab = page.locator('.settings-editor .settings-tabs-widget .action-label', { hasText: /^Remote/ });
      if (await visible(remoteTab, 5000)) await remoteTab.first().click();
      const input = page.locator('.settings-editor .setting-item-contents', { hasText: 'Server: Python' }).locator('input').first();
      await input.waitFor({ timeout: T });
      await input.fill(barePython);
      await page.keyboard.press('Tab');
      log(`agrippa.server.python -> ${barePython} (Settings editor)`);
      const warn = page.locator('.notifications-toasts .notification-toast', { hasText: /not installed/ });
      const warnOk = await visible(warn);
      const install = warn.first().getByRole('button', { name: 'Install' });
      const select = warn.first().getByRole('button', { name: 'Select Interpreter' });
      check(warnOk && (await install.count()) === 1 && (await select.count()) === 1,
        `"server not installed" warning with Install / Select Interpreter: ${warnOk ? (await warn.first().innerText()).replace(/\s+/g, ' ').slice(0, 200) : ''}`);
      await shot('08-not-installed.png');
    }
  } catch (e) {
    log('ERROR', (e && e.stack) || e);
    failed = true;
    await shot('99-error.png').catch(() => undefined);
  } finally {
    await context.close().catch(() => undefined);
    fs.rmSync(profile, { recursive: true, force: true });
  }
  log(failed ? 'RESULT FAIL' : 'RESULT PASS');
  process.exit(failed ? 1 : 0);
})();
