// Workspace Trust: package.json declares limited support (training hidden and refused in an
// untrusted folder, the interpreter setting restricted), and the gate refuses with a message.
import * as assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';

import { MANAGE_TRUST, requireTrust, TRAIN_UNTRUSTED, TrustUi } from '../src/trust';
import { EXT_ROOT } from './tokenize';

const pkg = JSON.parse(fs.readFileSync(path.join(EXT_ROOT, 'package.json'), 'utf8'));

function ui(isTrusted: boolean, answer?: string) {
  const calls = { warned: [] as string[], managed: 0 };
  const fake: TrustUi = {
    isTrusted,
    warn: async (message: string) => {
      calls.warned.push(message);
      return answer;
    },
    manageTrust: async () => {
      calls.managed += 1;
    },
  };
  return { fake, calls };
}

describe('workspace trust', () => {
  it('declares limited support for untrusted workspaces', () => {
    const trust = pkg.capabilities?.untrustedWorkspaces;
    assert.equal(trust?.supported, 'limited');
    assert.match(trust.description, /train/i);
    assert.deepEqual(trust.restrictedConfigurations, ['agrippa.server.python']);
  });

  it('shows the train command only in trusted workspaces', () => {
    const menus = Object.values(pkg.contributes.menus) as { command: string; when?: string }[][];
    const train = menus.flat().filter((m) => m.command === 'agrippa.train');
    assert.ok(train.length > 0);
    for (const m of train) assert.match(m.when ?? '', /\bisWorkspaceTrusted\b/);
  });

  it('keeps analysis commands available in untrusted workspaces', () => {
    const menus = Object.values(pkg.contributes.menus) as { command: string; when?: string }[][];
    for (const m of menus.flat().filter((m) => m.command === 'agrippa.compile')) {
      assert.doesNotMatch(m.when ?? '', /isWorkspaceTrusted/);
    }
  });

  it('lets a trusted workspace train without a word', async () => {
    const { fake, calls } = ui(true);
    assert.equal(await requireTrust(fake), true);
    assert.deepEqual(calls.warned, []);
  });

  it('refuses in an untrusted workspace, with a message and a way to trust it', async () => {
    const { fake, calls } = ui(false, MANAGE_TRUST);
    assert.equal(await requireTrust(fake), false);
    assert.deepEqual(calls.warned, [TRAIN_UNTRUSTED]);
    assert.equal(calls.managed, 1);
    const dismissed = ui(false);
    assert.equal(await requireTrust(dismissed.fake), false);
    assert.equal(dismissed.calls.managed, 0);
  });
});
