// The commands declared in package.json are the ones the extension registers, and the bundle's
// activate() really registers them (run against a fake `vscode` module).
import * as assert from 'assert/strict';
import * as fs from 'fs';
import Module = require('module');
import * as path from 'path';
import { describe, it } from 'node:test';

import { COMMANDS, registerCommands } from '../src/commands';
import { FIRST_LINE } from '../src/detect';
import { EXT_ROOT } from './tokenize';

const pkg = JSON.parse(fs.readFileSync(path.join(EXT_ROOT, 'package.json'), 'utf8'));
const declared: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);

/** A stand-in for the `vscode` module: any property is a callable, constructible stub. */
function fakeVscode(registered: string[], bundleText: string) {
  const stub: any = new Proxy(function () {}, {
    get: (_t, prop) => {
      if (prop === 'then') return undefined; // not a thenable
      if (prop === Symbol.iterator) return [][Symbol.iterator];
      if (prop === Symbol.toPrimitive) return () => 'stub';
      return stub;
    },
    set: () => true,
    defineProperty: () => true,
    apply: () => stub,
    construct: () => stub,
  });
  const disposable = { dispose() {} };
  const event = () => disposable;
  class Disposable {
    constructor(private readonly fn?: () => void) {}
    static from() {
      return new Disposable();
    }
    dispose() {
      this.fn?.();
    }
  }
  const overrides: Record<string, any> = {
    Disposable,
    commands: {
      registerCommand: (id: string) => {
        registered.push(id);
        return disposable;
      },
      executeCommand: async () => undefined,
    },
    workspace: new Proxy(
      { textDocuments: [], workspaceFolders: undefined, onDidOpenTextDocument: event, onDidChangeTextDocument: event, onDidChangeConfiguration: event },
      { get: (t: any, p) => (p in t ? t[p] : stub) },
    ),
    window: new Proxy(
      { activeTextEditor: undefined, visibleTextEditors: [], onDidChangeActiveTextEditor: event },
      { get: (t: any, p) => (p in t ? t[p] : stub) },
    ),
  };
  // esbuild copies the module's own keys (__toESM), so every name the bundle uses must exist
  const api: Record<string, any> = {};
  const aliases = new Set(['vscode']);
  for (const m of bundleText.matchAll(/([A-Za-z_$][\w$]*)\s*=\s*(?:__toESM\()?require\("vscode"\)/g)) aliases.add(m[1]);
  for (const alias of aliases) {
    const member = new RegExp(`(?<![\\w$.])${alias.replace(/\$/g, '\\$')}\\.([A-Za-z_$][\\w$]*)`, 'g');
    for (const m of bundleText.matchAll(member)) api[m[1]] = stub;
  }
  return Object.assign(api, overrides);
}

describe('commands', () => {
  it('package.json contributes exactly the commands of src/commands.ts', () => {
    assert.deepEqual([...declared].sort(), Object.values(COMMANDS).sort());
  });

  it('has the titles the palette shows', () => {
    const titles = Object.fromEntries(pkg.contributes.commands.map((c: any) => [c.command, `${c.category}: ${c.title}`]));
    assert.deepEqual(titles, {
      'agrippa.compile': 'Agrippa: Compile to ONNX',
      'agrippa.train': 'Agrippa: Compile and Train',
      'agrippa.restartServer': 'Agrippa: Restart Server',
      'agrippa.selectProfile': 'Agrippa: Select Bindings Profile',
      'agrippa.showGraph': 'Agrippa: Show Model Graph',
      'agrippa.showExpanded': 'Agrippa: Show Expanded Model',
    });
  });

  it('registerCommands registers each declared command once', () => {
    const ids: string[] = [];
    const noop = () => undefined;
    registerCommands({ registerCommand: (id) => (ids.push(id), { dispose() {} }) }, {
      compile: noop,
      train: noop,
      restartServer: noop,
      selectProfile: noop,
      showGraph: noop,
      showExpanded: noop,
    });
    assert.deepEqual(ids.sort(), [...declared].sort());
  });

  it('no source file registers commands behind registerCommands() back', () => {
    const srcDir = path.join(EXT_ROOT, 'src');
    for (const f of fs.readdirSync(srcDir).filter((n) => n.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(srcDir, f), 'utf8');
      const calls = text.match(/\.registerCommand\s*\(/g) ?? [];
      const allowed = f === 'commands.ts' ? 1 : 0;
      assert.equal(calls.length, allowed, `${f} calls registerCommand ${calls.length}x`);
    }
  });

  it('the bundled extension registers the declared commands on activate()', () => {
    const bundle = path.join(EXT_ROOT, 'dist', 'extension.js');
    assert.ok(fs.existsSync(bundle), 'dist/extension.js missing: run `npm run build`');
    const registered: string[] = [];
    const vscode = fakeVscode(registered, fs.readFileSync(bundle, 'utf8'));
    const M = Module as any;
    const origLoad = M._load;
    M._load = function (request: string, ...rest: unknown[]) {
      if (request === 'vscode') return vscode;
      return origLoad.call(this, request, ...rest);
    };
    try {
      delete require.cache[bundle];
      const ext = require(bundle);
      const api = ext.activate({ subscriptions: [], extensionPath: EXT_ROOT });
      assert.equal(typeof api.client, 'function');
    } finally {
      M._load = origLoad;
    }
    assert.deepEqual([...registered].sort(), [...declared].sort());
  });

  it('menus only reference declared commands', () => {
    for (const [menu, entries] of Object.entries(pkg.contributes.menus as Record<string, Array<{ command: string }>>)) {
      for (const e of entries) assert.ok(declared.includes(e.command), `${menu}: ${e.command}`);
    }
  });
});

describe('package.json contributions', () => {
  it('registers the language for .agr and <model> XML', () => {
    const lang = pkg.contributes.languages.find((l: any) => l.id === 'agrippa');
    assert.deepEqual(lang.extensions, ['.agr']);
    assert.equal(lang.firstLine, FIRST_LINE.source);
    const re = new RegExp(lang.firstLine);
    assert.ok(re.test('<model>'));
    assert.ok(re.test('<?xml version="1.0"?><model script-version="1">'));
    assert.ok(re.test('  <model\n'));
    assert.ok(!re.test('<models>'));
    assert.ok(!re.test('<project>'));
    assert.ok(pkg.activationEvents.includes('onLanguage:agrippa'));
    const grammar = pkg.contributes.grammars.find((g: any) => g.language === 'agrippa');
    assert.ok(fs.existsSync(path.join(EXT_ROOT, grammar.path)));
    assert.ok(fs.existsSync(path.join(EXT_ROOT, lang.configuration)));
  });

  it('declares the settings the server reads', () => {
    const props = pkg.contributes.configuration.properties;
    assert.equal(props['agrippa.server.python'].type, 'string');
    assert.equal(props['agrippa.bindings'].type, 'object');
    assert.equal(props['agrippa.bindings'].additionalProperties.type, 'number');
    assert.equal(props['agrippa.inlayHints.enabled'].type, 'boolean');
    assert.deepEqual(props['agrippa.trace.server'].enum, ['off', 'messages', 'verbose']);
    assert.ok(props['agrippa.profile']);
  });

  it('language configuration has XML comments, brackets and auto-closing quotes', () => {
    const conf = JSON.parse(fs.readFileSync(path.join(EXT_ROOT, 'language-configuration.json'), 'utf8'));
    assert.deepEqual(conf.comments.blockComment, ['<!--', '-->']);
    assert.ok(conf.brackets.some((b: string[]) => b[0] === '<' && b[1] === '>'));
    const opens = conf.autoClosingPairs.map((p: any) => p.open);
    for (const o of ['"', "'", '<!--', '(', '[']) assert.ok(opens.includes(o), o);
    for (const rule of conf.onEnterRules) {
      new RegExp(rule.beforeText.pattern);
      new RegExp(rule.afterText.pattern);
    }
  });
});
