// The details sidebar: a node's op, attributes, desc, tensors, parameters and ONNX names; a
// group's kind, copies and parameter counts; a graph input's or output's shape.
import { Item } from './layout';
import { Diag, formatCount, GNode, Group, Index, Range, shapeText } from './model';

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function where(r: Range): string {
  const file = r.file.split(/[\\/]/).pop();
  return `<a class="agv-reveal" data-file="${esc(r.file)}" data-line="${r.line}">${esc(file)}:${r.line}</a>`;
}

function rows(pairs: [string, string][]): string {
  if (!pairs.length) return '<div class="muted">none</div>';
  return '<table>' + pairs.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join('') + '</table>';
}

function diags(list: Diag[] | undefined): string {
  if (!list?.length) return '';
  return '<h4>Diagnostics</h4>' + list.map((d) =>
    `<div class="${d.severity === 'error' ? 'err' : ''}">${esc(d.severity)} <code>${esc(d.code)}</code>: ${esc(d.message)}</div>`,
  ).join('');
}

function count(n: number | string | null | undefined): string {
  if (typeof n === 'number') return n.toLocaleString('en-US');
  return esc(n ?? '?');
}

export function nodeHtml(ix: Index, n: GNode, symbolic: boolean): string {
  const t = (name: string) => {
    const tensor = ix.graph.tensors[name];
    const bad = n.mismatch?.includes(name) ? ' class="err"' : '';
    return [name, `<span${bad}>${esc(shapeText(tensor, symbolic))}${tensor ? ' ' + esc(tensor.dtype) : ''}</span>`] as [string, string];
  };
  const params = new Set(n.params.map((p) => p.name));
  let h = `<h3>${esc(n.title)}</h3><div><b>${esc(n.op)}</b> · ${where(n.range)}</div>`;
  if (n.desc) h += `<h4>Description</h4><div class="desc">${esc(n.desc)}</div>`;
  h += '<h4>Attributes</h4>' + rows(Object.entries(n.attributes).map(([k, v]) => [k, `<code>${esc(v)}</code>`]));
  h += '<h4>Inputs</h4>' + rows(n.inputs.filter((x) => !params.has(x)).map(t));
  h += '<h4>Outputs</h4>' + rows(n.outputs.map(t));
  if (n.params.length) {
    h += '<h4>Parameters</h4><table>' + n.params.map((p) => {
      const flags = [p.shared ? 'shared' : '', p.frozen ? 'frozen' : ''].filter(Boolean).join(', ');
      return `<tr><td>${esc(p.logical)}</td><td>[${esc(p.shape.join(', '))}]<br>${count(p.count)}${flags ? ' · ' + flags : ''}</td></tr>`;
    }).join('') + '</table>';
  }
  h += '<h4>ONNX names</h4>' + rows([['node', `<code>${esc(n.id)}</code>`],
    ...n.params.map((p) => ['param', `<code>${esc(p.name)}</code>`] as [string, string]),
    ...n.outputs.map((o) => ['output', `<code>${esc(o)}</code>`] as [string, string])]);
  return h + diags(n.diagnostics);
}

export function groupHtml(ix: Index, g: Group): string {
  const nodes = countNodes(g);
  let h = `<h3>${esc(g.title)}</h3><div><b>${esc(g.kind)}</b>${g.source ? ' · ' + esc(g.source) : ''} · ${where(g.range)}</div>`;
  if (g.subtitle) h += `<div>${esc(g.subtitle)}</div>`;
  if (g.desc) h += `<h4>Description</h4><div class="desc">${esc(g.desc)}</div>`;
  const facts: [string, string][] = [
    ['parameters', `${count(g.params)} (${esc(formatCount(g.params))})`],
    ['frozen', count(g.frozen)],
    ['nodes', String(nodes)],
    ['groups inside', String(g.children.length)],
  ];
  if (g.copies !== undefined) facts.push(['copies', esc(g.copies ?? '?')]);
  if (g.index !== undefined) facts.push(['copy', String(g.index + 1)]);
  if (g.errors) facts.push(['errors', `<span class="err">${g.errors}</span>`]);
  h += '<h4>Summary</h4>' + rows(facts);
  h += `<div style="margin-top:8px"><button class="agv-drill" data-id="${esc(g.id)}">Open this group</button></div>`;
  void ix;
  return h + diags(g.diagnostics);
}

export function tensorHtml(ix: Index, it: Item): string {
  const name = it.tensor ?? '';
  const t = ix.graph.tensors[name];
  const facts: [string, string][] = [
    ['symbolic', esc(shapeText(t, true))], ['concrete', esc(t?.concrete ? shapeText(t, false) : '—')],
    ['dtype', esc(t?.dtype ?? '?')], ['kind', esc(t?.kind ?? '?')],
  ];
  if (t?.producer) facts.push(['producer', `<code>${esc(t.producer)}</code>`]);
  return `<h3>${esc(name)}</h3><div>${it.kind === 'input' ? 'enters' : 'leaves'} this view</div>` + rows(facts);
}

export function countNodes(g: Group): number {
  return g.nodes.length + g.children.reduce((s, c) => s + countNodes(c), 0);
}
