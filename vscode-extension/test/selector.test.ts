// The documents the language client hands the server: Agrippa markup and agrippa.toml
// (hover and completion of its keys), and the activation event that starts the
// extension in a folder that has only an agrippa.toml open.
import * as assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';

import { DOCUMENT_SELECTOR, LANGUAGE_ID } from '../src/constants';
import { EXT_ROOT } from './tokenize';

const pkg = JSON.parse(fs.readFileSync(path.join(EXT_ROOT, 'package.json'), 'utf8'));

describe('document selector', () => {
  it('hands the server Agrippa files and agrippa.toml, not other TOML files', () => {
    assert.ok(DOCUMENT_SELECTOR.some((s) => s.scheme === 'file' && s.language === LANGUAGE_ID));
    const toml = DOCUMENT_SELECTOR.filter((s) => s.pattern !== undefined);
    assert.deepEqual(toml, [{ scheme: 'file', pattern: '**/agrippa.toml' }]);
    assert.ok(!DOCUMENT_SELECTOR.some((s) => s.language === 'toml'));
  });

  it('activates in a folder with an agrippa.toml', () => {
    assert.ok(pkg.activationEvents.includes('workspaceContains:**/agrippa.toml'));
  });
});
