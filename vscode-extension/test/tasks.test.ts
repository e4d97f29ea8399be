// The `agrippa` task type, its problem matcher and the walkthrough: package.json's
// declarations agree with src/taskCommand.ts, the matcher's regexp reads real `agrippa check`
// output, and the task provider (src/tasks.ts, run against a fake `vscode`) builds the right
// command lines for each workspace folder.
import * as assert from 'assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import Module = require('module');
import * as os from 'os';
import * as path from 'path';
import { describe, it } from 'node:test';

import { CHECK_LINE_PATTERN, TASK_COMMANDS, TASK_TYPE, taskCommandLine, taskLabel } from '../src/taskCommand';
import { EXT_ROOT } from './tokenize';

const pkg = JSON.parse(fs.readFileSync(path.join(EXT_ROOT, 'package.json'), 'utf8'));
const REPO = path.resolve(EXT_ROOT, '..');

const matcher = () => pkg.contributes.problemMatchers.find((m: any) => m.name === 'agrippa');

/** What VS Code's problem matcher takes from a line (the pattern's group numbers). */
function match(line: string): Record<string, string> | undefined {
  const p = matcher().pattern;
  const m = new RegExp(p.regexp).exec(line);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const key of ['file', 'line', 'column', 'severity', 'message', 'code']) {
    if (m[p[key]] !== undefined) out[key] = m[p[key]];
  }
  return out;
}

describe('task definitions', () => {
  it('declares the agrippa task type with check, compile and train', () => {
    const [def] = pkg.contributes.taskDefinitions.filter((d: any) => d.type === TASK_TYPE);
    assert.ok(def, 'taskDefinitions has type agrippa');
    assert.deepEqual(def.required, ['command']);
    assert.deepEqual(def.properties.command.enum, [...TASK_COMMANDS]);
    assert.equal(def.properties.path.type, 'string');
    assert.ok(pkg.activationEvents.includes('onTaskType:agrippa'));
  });

  it('builds `<python> -m agrippa.cli <command> <path>`', () => {
    assert.deepEqual(taskCommandLine('/venv/bin/python', { command: 'check' }), {
      command: '/venv/bin/python',
      args: ['-m', 'agrippa.cli', 'check', '.'],
    });
    assert.deepEqual(taskCommandLine('python3', { command: 'train', path: 'models/gpt', args: ['--profile', 'small'] }), {
      command: 'python3',
      args: ['-m', 'agrippa.cli', 'train', 'models/gpt', '--profile', 'small'],
    });
    assert.deepEqual(taskCommandLine('py', { command: 'compile', path: '  ', args: [1 as any, '-o', 'x.onnx'] }).args, [
      '-m',
      'agrippa.cli',
      'compile',
      '.',
      '-o',
      'x.onnx',
    ]);
    assert.equal(taskLabel('check'), 'check');
    assert.equal(taskLabel('compile', 'models/gpt'), 'compile models/gpt');
  });
});

describe('problem matcher', () => {
  it('is declared as $agrippa with the regexp of src/taskCommand.ts', () => {
    const m = matcher();
    assert.ok(m, 'problemMatchers has agrippa');
    assert.equal(m.owner, 'agrippa');
    assert.equal(m.pattern.regexp, CHECK_LINE_PATTERN);
    assert.deepEqual(m.fileLocation, ['autoDetect', '${workspaceFolder}']);
  });

  it('reads the lines agrippa check prints', () => {
    assert.deepEqual(match("m.agr:4:33: error: 'xx' is not defined; did you mean 'x'? [undefined-tensor]"), {
      file: 'm.agr',
      line: '4',
      column: '33',
      severity: 'error',
      message: "'xx' is not defined; did you mean 'x'?",
      code: 'undefined-tensor',
    });
    assert.equal(match('sub/b.agr:1:1: warning: unused [x] here [unused-output]')?.code, 'unused-output');
    assert.equal(match('sub/b.agr:1:1: warning: unused [x] here [unused-output]')?.message, 'unused [x] here');
    assert.equal(match('C:\\p\\m.agr:2:5: information: several files [index-choice]')?.severity, 'info');
    assert.equal(match('C:\\p\\m.agr:2:5: information: several files [index-choice]')?.file, 'C:\\p\\m.agr');
    assert.equal(match('/abs/m.agr:2:5: hint: nothing reads y [unused-output]')?.severity, 'hint');
    assert.equal(match('1 error, 0 warnings'), undefined);
    assert.equal(match('wrote m.onnx'), undefined);
  });

  it('matches the output of the real `agrippa check` (when the repository venv is there)', (t) => {
    const python = path.join(REPO, '.venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
    if (!fs.existsSync(python)) return t.skip(`${python} is missing`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agrippa-matcher-'));
    fs.writeFileSync(
      path.join(dir, 'm.agr'),
      '<model>\n  <import from="x" dim="[3]"/>\n  <block>\n    <node op="Relu"><input src="xx"/><output name="y"/></node>\n  </block>\n  <export from="y" dim="[3]"/>\n</model>\n',
    );
    let stderr = '';
    try {
      execFileSync(python, ['-m', 'agrippa.cli', 'check', '.'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      assert.fail('agrippa check should fail on an undefined tensor');
    } catch (e: any) {
      assert.equal(e.status, 1, String(e.stderr));
      stderr = String(e.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const line = stderr.split(/\r?\n/).find((l) => l.includes('[undefined-tensor]'));
    assert.ok(line, stderr);
    const m = match(line);
    assert.deepEqual(m && [m.file, m.line, m.column, m.severity, m.code], ['m.agr', '4', '33', 'error', 'undefined-tensor']);
  });
});

/** A stand-in for the parts of `vscode` that src/tasks.ts uses. */
function fakeVscode(folders: Array<{ name: string; fsPath: string }>) {
  class ProcessExecution {
    constructor(public process: string, public args: string[], public options: any) {}
  }
  class Task {
    group: unknown;
    detail: string | undefined;
    presentationOptions: unknown;
    constructor(public definition: any, public scope: any, public name: string, public source: string,
      public execution: ProcessExecution, public problemMatchers: string[]) {}
  }
  const registered: Array<{ type: string; provider: any }> = [];
  return {
    registered,
    api: {
      ProcessExecution,
      Task,
      TaskGroup: { Build: 'build' },
      TaskRevealKind: { Always: 1, Silent: 2 },
      workspace: { workspaceFolders: folders.map((f, index) => ({ name: f.name, index, uri: { fsPath: f.fsPath } })) },
      tasks: {
        registerTaskProvider: (type: string, provider: any) => (registered.push({ type, provider }), { dispose() {} }),
      },
    },
  };
}

function loadTasks(vscode: unknown): typeof import('../src/tasks') {
  const M = Module as any;
  const origLoad = M._load;
  M._load = function (request: string, ...rest: unknown[]) {
    if (request === 'vscode') return vscode;
    return origLoad.call(this, request, ...rest);
  };
  try {
    const file = require.resolve('../src/tasks');
    delete require.cache[file];
    return require(file);
  } finally {
    M._load = origLoad;
  }
}

describe('task provider', () => {
  it('provides check, compile and train for each workspace folder with the server interpreter', async () => {
    const fake = fakeVscode([
      { name: 'a', fsPath: '/ws/a' },
      { name: 'b', fsPath: '/ws/b' },
    ]);
    const tasks = loadTasks(fake.api);
    tasks.registerTaskProvider(async () => ({ python: '/ws/.venv/bin/python', source: 'agrippa.server.python' }));
    assert.equal(fake.registered.length, 1);
    assert.equal(fake.registered[0].type, 'agrippa');
    const provided: any[] = await fake.registered[0].provider.provideTasks();
    assert.deepEqual(
      provided.map((t) => [t.scope.name, t.name, t.source, t.execution.process, t.execution.args.join(' '), t.execution.options.cwd]),
      [
        ['a', 'check', 'agrippa', '/ws/.venv/bin/python', '-m agrippa.cli check .', '/ws/a'],
        ['a', 'compile', 'agrippa', '/ws/.venv/bin/python', '-m agrippa.cli compile .', '/ws/a'],
        ['a', 'train', 'agrippa', '/ws/.venv/bin/python', '-m agrippa.cli train .', '/ws/a'],
        ['b', 'check', 'agrippa', '/ws/.venv/bin/python', '-m agrippa.cli check .', '/ws/b'],
        ['b', 'compile', 'agrippa', '/ws/.venv/bin/python', '-m agrippa.cli compile .', '/ws/b'],
        ['b', 'train', 'agrippa', '/ws/.venv/bin/python', '-m agrippa.cli train .', '/ws/b'],
      ],
    );
    for (const t of provided) {
      assert.deepEqual(t.problemMatchers, ['$agrippa']);
      assert.deepEqual(t.definition, { type: 'agrippa', command: t.name, path: '.' });
    }
    assert.equal(provided[1].group, 'build');
  });

  it('resolves a tasks.json task, keeping its definition', async () => {
    const fake = fakeVscode([{ name: 'a', fsPath: '/ws/a' }]);
    const tasks = loadTasks(fake.api);
    const provider = new tasks.AgrippaTaskProvider(async () => ({ python: 'python3', source: 'fallback' }));
    const folder = (fake.api.workspace.workspaceFolders as any[])[0];
    const definition = { type: 'agrippa', command: 'compile', path: 'models', args: ['--reinit'] };
    const resolved: any = await provider.resolveTask({ definition, scope: folder, name: 'my compile' } as any);
    assert.equal(resolved.definition, definition);
    assert.equal(resolved.name, 'my compile');
    assert.deepEqual([resolved.execution.process, ...resolved.execution.args], ['python3', '-m', 'agrippa.cli', 'compile', 'models', '--reinit']);
    assert.equal(await provider.resolveTask({ definition: { type: 'agrippa', command: 'rm' }, scope: folder } as any), undefined);
  });
});

describe('walkthrough', () => {
  const [walk] = pkg.contributes.walkthroughs;
  const declared = new Set<string>(pkg.contributes.commands.map((c: any) => c.command));

  it('has the steps open an example, hover a shape, compile, train', () => {
    assert.deepEqual(
      walk.steps.map((s: any) => s.id),
      ['openExample', 'hoverShape', 'compile', 'train'],
    );
  });

  it('ships each step media file and links only to commands that exist', () => {
    const builtins = new Set([
      'workbench.action.files.openFolder',
      'workbench.action.files.openFile',
      'editor.action.showHover',
      'workbench.action.tasks.runTask',
    ]);
    const ignore = fs.readFileSync(path.join(EXT_ROOT, '.vscodeignore'), 'utf8');
    assert.match(ignore, /^!media\/\*\*$/m, '.vscodeignore packages media/');
    for (const step of walk.steps) {
      const media = path.join(EXT_ROOT, step.media.markdown);
      assert.ok(fs.existsSync(media), `${step.id}: ${step.media.markdown} is missing`);
      assert.ok(fs.readFileSync(media, 'utf8').startsWith('# '), `${step.id}: the media file has a title`);
      for (const m of (step.description as string).matchAll(/\(command:([\w.]+)\)/g)) {
        assert.ok(declared.has(m[1]) || builtins.has(m[1]), `${step.id} links to unknown command ${m[1]}`);
      }
      for (const ev of step.completionEvents ?? []) {
        const cmd = /^onCommand:(.+)$/.exec(ev)?.[1];
        if (cmd) assert.ok(declared.has(cmd) || builtins.has(cmd), `${step.id}: ${ev}`);
      }
    }
  });
});
