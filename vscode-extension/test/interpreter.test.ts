import * as assert from 'assert/strict';
import { describe, it } from 'node:test';

import {
  checkServerInstalled,
  expandPath,
  installCommand,
  resolveInterpreter,
  RunResult,
  serverCommand,
  shellQuote,
} from '../src/interpreter';

describe('resolveInterpreter', () => {
  it('uses agrippa.server.python first, expanding ${workspaceFolder} and ~', async () => {
    let askedExtension = false;
    const r = await resolveInterpreter({
      configured: '${workspaceFolder}/.venv/bin/python',
      pythonExtension: async () => {
        askedExtension = true;
        return '/from/ms-python';
      },
      defaultInterpreterPath: '/from/setting',
      workspaceFolder: '/proj',
    });
    assert.deepEqual(r, { python: '/proj/.venv/bin/python', source: 'agrippa.server.python' });
    assert.equal(askedExtension, false, 'the Python extension is not asked when the setting is set');
    const home = await resolveInterpreter({ configured: '~/venv/bin/python', homeDir: '/home/u' });
    assert.equal(home.python, '/home/u/venv/bin/python');
  });

  it('ignores a blank setting and asks the Python extension', async () => {
    const r = await resolveInterpreter({ configured: '   ', pythonExtension: async () => '/envs/a/bin/python' });
    assert.deepEqual(r, { python: '/envs/a/bin/python', source: 'python-extension' });
  });

  it('falls back to python.defaultInterpreterPath when the Python extension has no answer or fails', async () => {
    const none = await resolveInterpreter({ pythonExtension: async () => undefined, defaultInterpreterPath: '/usr/bin/python3.11' });
    assert.deepEqual(none, { python: '/usr/bin/python3.11', source: 'python.defaultInterpreterPath' });
    const empty = await resolveInterpreter({ pythonExtension: async () => '', defaultInterpreterPath: '/x/python' });
    assert.equal(empty.source, 'python.defaultInterpreterPath');
    const failing = await resolveInterpreter({
      pythonExtension: () => Promise.reject(new Error('extension crashed')),
      defaultInterpreterPath: '/x/python',
    });
    assert.equal(failing.source, 'python.defaultInterpreterPath');
  });

  it('uses python3 (python on Windows) when nothing is configured', async () => {
    assert.deepEqual(await resolveInterpreter({ platform: 'linux' }), { python: 'python3', source: 'fallback' });
    assert.deepEqual(await resolveInterpreter({ platform: 'win32' }), { python: 'python', source: 'fallback' });
    assert.deepEqual(await resolveInterpreter({ platform: 'darwin', pythonExtension: async () => undefined }), {
      python: 'python3',
      source: 'fallback',
    });
  });
});

describe('expandPath', () => {
  it('expands ${env:NAME} and ${userHome}, leaves unknown variables alone', () => {
    assert.equal(expandPath('${env:VENV}/bin/python', { env: { VENV: '/opt/v' } }), '/opt/v/bin/python');
    assert.equal(expandPath('${userHome}/py', { homeDir: '/h' }), '/h/py');
    assert.equal(expandPath('${workspaceFolder}/py', {}), '${workspaceFolder}/py');
    assert.equal(expandPath('  /trimmed  '), '/trimmed');
  });
});

describe('server and install commands', () => {
  it('runs the server as a module over stdio and installs with pip', () => {
    assert.deepEqual(serverCommand('/v/bin/python'), { command: '/v/bin/python', args: ['-m', 'agrippa_lsp'] });
    assert.deepEqual(installCommand('python3'), { command: 'python3', args: ['-m', 'pip', 'install', 'agrippa'] });
  });

  it('quotes arguments for display', () => {
    assert.equal(shellQuote('/usr/bin/python3', 'linux'), '/usr/bin/python3');
    assert.equal(shellQuote('/my venv/python', 'linux'), `'/my venv/python'`);
    assert.equal(shellQuote("it's", 'linux'), `'it'\\''s'`);
    assert.equal(shellQuote('C:\\Program Files\\py.exe', 'win32'), '"C:\\Program Files\\py.exe"');
  });
});

describe('checkServerInstalled', () => {
  const fake = (result: RunResult | Error) => {
    const calls: Array<[string, string[]]> = [];
    const run = async (cmd: string, args: string[]) => {
      calls.push([cmd, args]);
      if (result instanceof Error) throw result;
      return result;
    };
    return { run, calls };
  };

  it('imports agrippa_lsp with the chosen interpreter', async () => {
    const f = fake({ code: 0, stderr: '' });
    assert.deepEqual(await checkServerInstalled('/v/bin/python', f.run), { status: 'ok' });
    assert.deepEqual(f.calls, [['/v/bin/python', ['-c', 'import agrippa_lsp']]]);
  });

  it('reports a missing interpreter', async () => {
    const r = await checkServerInstalled('/nope/python', fake({ code: null, stderr: '', errorCode: 'ENOENT' }).run);
    assert.equal(r.status, 'no-python');
    const thrown = await checkServerInstalled('/nope/python', fake(new Error('spawn failed')).run);
    assert.equal(thrown.status, 'no-python');
  });

  it('reports a missing module with the last line of the traceback', async () => {
    const stderr = 'Traceback (most recent call last):\n  File "<string>", line 1\nModuleNotFoundError: No module named \'agrippa_lsp\'\n';
    const r = await checkServerInstalled('python3', fake({ code: 1, stderr }).run);
    assert.deepEqual(r, { status: 'not-installed', detail: "ModuleNotFoundError: No module named 'agrippa_lsp'" });
  });
});
