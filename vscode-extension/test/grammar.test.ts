import * as assert from 'assert/strict';
import { describe, it } from 'node:test';

import { scopesOf, tokenize } from './tokenize';

const OP = 'entity.name.function.op.agrippa';
const REF = 'variable.other.tensor.reference.agrippa';
const DEF = 'variable.other.tensor.definition.agrippa';
const VAR = 'support.function.builtin.var.agrippa';
const EXPR = 'support.function.builtin.expr.agrippa';
const BINDING = 'variable.parameter.binding.agrippa';
const NUM = 'constant.numeric.agrippa';

function has(scopes: string[], scope: string): boolean {
  return scopes.includes(scope);
}

function assertScope(scopes: string[], scope: string, what: string): void {
  assert.ok(has(scopes, scope), `${what}: expected ${scope} in [${scopes.join(', ')}]`);
}

function assertNoScope(scopes: string[], scope: string, what: string): void {
  assert.ok(!has(scopes, scope), `${what}: did not expect ${scope} in [${scopes.join(', ')}]`);
}

describe('TextMate grammar (text.xml.agrippa)', () => {
  it('gives the op name its own scope', async () => {
    const t = await tokenize('<node title="linear" op="MatMul">');
    assertScope(scopesOf(t, 'MatMul'), OP, 'op value');
    assertScope(scopesOf(t, 'MatMul'), 'string.quoted.double.xml', 'op value is still a string');
    assertScope(scopesOf(t, 'op'), 'entity.other.attribute-name.xml', 'op attribute name');
    assertScope(scopesOf(t, 'node'), 'entity.name.tag.xml', 'tag name');
    assertNoScope(scopesOf(t, 'linear'), OP, 'title value');
    assertScope(scopesOf(t, 'linear'), 'string.quoted.double.xml', 'title value');
  });

  it('accepts single quotes and ignores attributes that only end in "op"', async () => {
    const t = await tokenize(`<node op='Relu' data-op="Nope" loop="Neither"/>`);
    assertScope(scopesOf(t, 'Relu'), OP, 'single-quoted op');
    assertScope(scopesOf(t, 'Relu'), 'string.quoted.single.xml', 'single-quoted op');
    assertNoScope(scopesOf(t, 'Nope'), OP, 'data-op');
    assertNoScope(scopesOf(t, 'Neither'), OP, 'loop');
  });

  it('marks src= and from= values as tensor references', async () => {
    const t = await tokenize('<input src="hidden"/>\n<export from="logits" dim="[4, 16]"/>\n<import from=\'x\'/>');
    assertScope(scopesOf(t, 'hidden'), REF, 'src');
    assertScope(scopesOf(t, 'logits'), REF, 'from');
    assertScope(scopesOf(t, 'x'), REF, "from='x'");
    assertScope(scopesOf(t, '4'), NUM, 'dim number');
    assertNoScope(scopesOf(t, '4'), REF, 'dim is not a reference');
  });

  it('marks name= on <output> (only) as a tensor definition', async () => {
    const t = await tokenize('<output name="y" dim="[4, 16]"/>\n<params name="W" dim="[16, 16]"/>\n<block name="blk">');
    assertScope(scopesOf(t, 'y'), DEF, 'output name');
    assertScope(scopesOf(t, 'output'), 'entity.name.tag.xml', 'output tag');
    assertNoScope(scopesOf(t, 'W'), DEF, 'params name');
    assertNoScope(scopesOf(t, 'W'), REF, 'params name');
    assertNoScope(scopesOf(t, 'blk'), DEF, 'block name');
    assertNoScope(scopesOf(t, 'y'), REF, 'a definition is not a reference');
  });

  it('highlights var(...) bindings inside attribute values', async () => {
    const t = await tokenize('<import from="input" dim="[var(batch), var(features)]"/>');
    assertScope(scopesOf(t, 'var'), VAR, 'var keyword');
    assertScope(scopesOf(t, 'batch'), BINDING, 'binding name');
    assertScope(scopesOf(t, 'features'), BINDING, 'second binding name');
    assertScope(scopesOf(t, 'batch'), 'string.quoted.double.xml', 'still inside the string');
    assertScope(scopesOf(t, '('), 'punctuation.section.parens.begin.agrippa', 'paren');
  });

  it('highlights expr(...) with operators, numbers and nested var(...)', async () => {
    const t = await tokenize('<output name="h" dim="[expr(var(hidden) * 2 + (3 - 1)), 1]"/>');
    assertScope(scopesOf(t, 'expr'), EXPR, 'expr keyword');
    assertScope(scopesOf(t, 'var'), VAR, 'nested var');
    assertScope(scopesOf(t, 'hidden'), BINDING, 'nested binding');
    assertScope(scopesOf(t, '*'), 'keyword.operator.arithmetic.agrippa', 'operator *');
    assertScope(scopesOf(t, '-'), 'keyword.operator.arithmetic.agrippa', 'operator -');
    assertScope(scopesOf(t, '2'), NUM, 'number in expr');
    assertScope(scopesOf(t, '2'), 'meta.function-call.expr.agrippa', 'number inside expr(...)');
    assertScope(scopesOf(t, '1', 1), NUM, 'number after expr');
    assertNoScope(scopesOf(t, '1', 1), 'meta.function-call.expr.agrippa', 'expr(...) closed before ", 1"');
    assertScope(scopesOf(t, 'h'), DEF, 'output name on the same line');
  });

  it('keeps tag state across lines', async () => {
    const t = await tokenize(['<node title="sum"', '      op="Add"', '      >', '  <input src="a"/>', '</node>'].join('\n'));
    assertScope(scopesOf(t, 'Add'), OP, 'op on a continuation line');
    assertScope(scopesOf(t, 'a'), REF, 'src on the next element');
    assertScope(scopesOf(t, 'node', 1), 'entity.name.tag.xml', 'end tag');
  });

  it('treats comments, the XML declaration and entities as XML', async () => {
    const t = await tokenize('<?xml version="1.0" encoding="UTF-8"?>\n<!-- op="NotAnOp" src="nothing" -->\n<model title="a &amp; b">');
    assertScope(scopesOf(t, 'xml'), 'meta.tag.preprocessor.xml', 'xml declaration');
    const comment = t[1];
    assert.ok(comment.every((tok) => has(tok.scopes, 'comment.block.xml')), 'whole line is a comment');
    assert.ok(comment.every((tok) => !has(tok.scopes, OP) && !has(tok.scopes, REF)), 'no op/ref in comments');
    assertScope(scopesOf(t, 'amp'), 'constant.character.entity.xml', 'entity');
    assertScope(scopesOf(t, '&'), 'punctuation.definition.constant.xml', 'entity start');
    assertScope(scopesOf(t, 'model'), 'entity.name.tag.xml', 'root tag');
  });

  it('does not let an unfinished var( swallow the rest of the tag', async () => {
    const t = await tokenize('<output name="z" dim="[var(" init="zeros"/>');
    assertScope(scopesOf(t, 'init'), 'entity.other.attribute-name.xml', 'next attribute');
    assertNoScope(scopesOf(t, 'zeros'), BINDING, 'next value');
  });
});
