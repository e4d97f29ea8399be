// Drives VS Code (code-server in headless Chromium, through playwright-core) with the Agrippa
// extension installed, the way a person would: open the model from the Explorer, hover an
// output, run "Agrippa: Compile to ONNX" from the Command Palette, break a reference and see
// the diagnostic. Started by tests/e2e/harness.py (run_vscode), which sets up code-server.
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
