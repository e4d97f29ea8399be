import * as assert from 'assert/strict';
import { describe, it } from 'node:test';

import { closingTagFor } from '../src/autoclose';
import { isAgrippaXml } from '../src/detect';
import { parseLoss, ProgressTracker } from '../src/progress';

describe('closingTagFor (auto-closing tags)', () => {
  it('closes a start tag that was just completed', () => {
    assert.equal(closingTagFor('  <node op="MatMul" title="x">'), '</node>');
    assert.equal(closingTagFor('<model>'), '</model>');
    assert.equal(closingTagFor('<block\n   title="b"\n   >'), '</block>');
  });

  it('handles ">" inside attribute values', () => {
    assert.equal(closingTagFor('<node cond="a > b">'), '</node>');
  });

  it('does nothing for self-closing tags, end tags, comments, declarations', () => {
    assert.equal(closingTagFor('<input src="x"/>'), undefined);
    assert.equal(closingTagFor('</node>'), undefined);
    assert.equal(closingTagFor('<!-- note -->'), undefined);
    assert.equal(closingTagFor('<?xml version="1.0"?>'), undefined);
    assert.equal(closingTagFor('a > b'), undefined);
    assert.equal(closingTagFor('<node title="unterminated>'), undefined);
  });

  it('does not insert an end tag that is already there', () => {
    assert.equal(closingTagFor('<node>', '</node>'), undefined);
    assert.equal(closingTagFor('<node>', '  </node>'), undefined);
    assert.equal(closingTagFor('<node>', '</other>'), '</node>');
  });
});

describe('isAgrippaXml', () => {
  it('recognises <model> as the root element', () => {
    assert.ok(isAgrippaXml('<model>'));
    assert.ok(isAgrippaXml('\ufeff<?xml version="1.0"?>\n<!-- a\n comment -->\n<model script-version="0.0.1">'));
    assert.ok(isAgrippaXml('<?xml version="1.0"?>\n<?other pi?>\n<!DOCTYPE model>\n<model/>'));
  });

  it('rejects other XML', () => {
    assert.ok(!isAgrippaXml('<project><model/></project>'));
    assert.ok(!isAgrippaXml('<models>'));
    assert.ok(!isAgrippaXml('<!-- unterminated <model>'));
    assert.ok(!isAgrippaXml(''));
  });
});

describe('training progress', () => {
  it('parses the loss from progress messages', () => {
    assert.equal(parseLoss('step 120/1000 loss 0.4132 ETA 12s'), 0.4132);
    assert.equal(parseLoss('loss=1e-3'), 0.001);
    assert.equal(parseLoss('compiling'), undefined);
    assert.ok(Number.isNaN(parseLoss('loss nan') as number));
  });

  it('turns percentages into increments and keeps the last loss', () => {
    const t = new ProgressTracker();
    assert.equal(t.update({ kind: 'begin', title: 'Training', percentage: 0 }), undefined);
    assert.deepEqual(t.update({ kind: 'report', message: 'step 10/100 loss 0.9', percentage: 10 }), {
      message: 'step 10/100 loss 0.9',
      increment: 10,
    });
    assert.deepEqual(t.update({ kind: 'report', message: 'step 50/100 loss 0.5', percentage: 50 }), {
      message: 'step 50/100 loss 0.5',
      increment: 40,
    });
    assert.deepEqual(t.update({ kind: 'report', percentage: 40 }), undefined, 'never goes backwards');
    assert.equal(t.lastLoss, 0.5);
    t.update({ kind: 'end', message: 'done' });
    assert.ok(t.ended);
    assert.equal(t.title, 'Training');
  });
});
