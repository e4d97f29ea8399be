// The semantic token legend the server sends (compiler/agrippa/ide/tokens.py) has default colours
// here: each custom type and modifier is declared, and each type maps to TextMate scopes.
import * as assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';

import { EXT_ROOT } from './tokenize';

const pkg = JSON.parse(fs.readFileSync(path.join(EXT_ROOT, 'package.json'), 'utf8'));
const tokensPy = fs.readFileSync(path.join(EXT_ROOT, '..', 'compiler', 'agrippa', 'ide', 'tokens.py'), 'utf8');
const STANDARD_TYPES = new Set(['namespace', 'parameter', 'variable', 'function']);
const STANDARD_MODIFIERS = new Set(['definition', 'declaration', 'readonly', 'defaultLibrary']);

function tuple(name: string): string[] {
  const m = tokensPy.match(new RegExp(`^${name} = \\(([^)]*)\\)`, 'm'));
  assert.ok(m, `${name} not found in tokens.py`);
  return [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
}

describe('semantic tokens', () => {
  const types = tuple('TOKEN_TYPES');
  const modifiers = tuple('TOKEN_MODIFIERS');

  it('declares every custom token type and modifier the server uses', () => {
    const declaredTypes = new Set(pkg.contributes.semanticTokenTypes.map((t: { id: string }) => t.id));
    const declaredMods = new Set(pkg.contributes.semanticTokenModifiers.map((t: { id: string }) => t.id));
    for (const t of types) assert.ok(STANDARD_TYPES.has(t) || declaredTypes.has(t), `type ${t} is not declared`);
    for (const m of modifiers) assert.ok(STANDARD_MODIFIERS.has(m) || declaredMods.has(m), `modifier ${m} is not declared`);
  });

  it('maps every token type to TextMate scopes for the agrippa language', () => {
    const [entry] = pkg.contributes.semanticTokenScopes;
    assert.equal(entry.language, 'agrippa');
    for (const t of types) assert.ok(entry.scopes[t]?.length, `no scope for ${t}`);
  });
});
