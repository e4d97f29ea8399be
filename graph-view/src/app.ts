// The graph view: toolbar (breadcrumb, shapes, search, export), canvas and sidebar, and the
// messages to and from a host (the VS Code webview) when there is one.
import { svgText, pngBlob, download } from './export';
import { Item, Layout, layout, representative, ViewState, warmLevels } from './layout';
import { Diag, formatCount, Index, ModelGraph } from './model';
import { Canvas } from './render';
import { countNodes, groupHtml, nodeHtml, tensorHtml } from './sidebar';
import { CSS } from './style';

export type HostMessage = { type: string; [k: string]: unknown };
export interface AppOptions { post?: (msg: HostMessage) => void }

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, parent?: HTMLElement, text?: string) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  parent?.appendChild(e);
  return e;
}

export class GraphApp {
  ix!: Index;
  state!: ViewState;
  lastLayout: Layout | null = null;
  ready: Promise<void>;
  private canvas: Canvas;
  private side: HTMLElement;
  private crumbs: HTMLElement;
  private banner: HTMLElement;
  private status: HTMLElement;
  private results: HTMLElement;
  private shapes: HTMLSelectElement;
  private selected: string | null = null;
  private staleErrors = new Set<string>();
  private pending: Promise<void> = Promise.resolve();

  constructor(private host: HTMLElement, graph: ModelGraph, private opts: AppOptions = {}) {
    if (!document.getElementById('agv-style')) {
      const style = document.createElement('style');
      style.id = 'agv-style';
      style.textContent = CSS;
      document.head.appendChild(style);
    }
    const root = h('div', 'agv-root', host);
    const bar = h('div', 'agv-bar', root);
    this.crumbs = h('div', 'agv-crumbs', bar);
    this.shapes = h('select', 'agv-shapes', bar);
    for (const [v, t] of [['concrete', 'Concrete shapes'], ['symbolic', 'Symbolic shapes']]) {
      const o = h('option', '', this.shapes, t);
      o.value = v;
    }
    this.shapes.addEventListener('change', () => { this.state.symbolic = this.shapes.value === 'symbolic'; void this.relayout(false); });
    const button = (label: string, title: string, fn: () => void, cls = '') => {
      const b = h('button', cls, bar, label);
      b.title = title;
      b.addEventListener('click', fn);
      return b;
    };
    button('Fit', 'Fit the view', () => this.canvas.fit(), 'agv-fit');
    button('+', 'Zoom in', () => this.canvas.zoomBy(1.25));
    button('−', 'Zoom out', () => this.canvas.zoomBy(0.8));
    button('Collapse all', 'Fold every group', () => { this.state.expanded.clear(); void this.relayout(true); }, 'agv-collapse');
    const search = h('div', 'agv-search', bar);
    const input = h('input', '', search);
    input.placeholder = 'Search nodes, blocks…';
    input.type = 'search';
    this.results = h('div', 'agv-results', search);
    this.results.style.display = 'none';
    input.addEventListener('input', () => this.showResults(input.value));
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') (this.results.firstElementChild as HTMLElement | null)?.click();
      if (ev.key === 'Escape') { this.results.style.display = 'none'; }
    });
    button('SVG', 'Export the current view as SVG', () => void this.export('svg'), 'agv-export-svg');
    button('PNG', 'Export the current view as PNG', () => void this.export('png'), 'agv-export-png');
    this.banner = h('div', 'agv-banner hidden', root);
    const main = h('div', 'agv-main', root);
    const canvasHost = h('div', 'agv-canvas', main);
    this.status = h('div', 'agv-status', canvasHost);
    this.side = h('div', 'agv-side hidden', main);
    this.side.addEventListener('click', (ev) => {
      const t = ev.target as HTMLElement;
      if (t.classList.contains('agv-reveal')) this.post({ type: 'reveal', file: t.dataset.file, line: Number(t.dataset.line) });
      if (t.classList.contains('agv-drill')) this.drill(t.dataset.id!);
    });
    this.canvas = new Canvas(canvasHost, {
      click: (it) => this.select(it, true),
      dblclick: (it) => { if (it.group) this.drill(it.group.id); },
      toggle: (it) => { if (it.group) this.toggle(it.group.id); },
    });
    this.ready = this.setGraph(graph);
  }

  private post(msg: HostMessage): void {
    this.opts.post?.(msg);
  }

  /** Show a (new) graph, keeping the open groups and the current group when their ids remain. */
  setGraph(graph: ModelGraph, stale = false, errors: Diag[] = [], errorNodes: string[] = []): Promise<void> {
    const first = !this.ix;
    const prev = this.state;
    this.ix = new Index(graph);
    const root = prev ? this.ix.groups.get(prev.root.id) ?? graph.root : graph.root;
    const expanded = new Set([...(prev?.expanded ?? [])].filter((id) => this.ix.groups.has(id)));
    const hasConcrete = Object.values(graph.tensors).some((t) => t.concrete);
    const symbolic = prev ? prev.symbolic : !hasConcrete;
    this.shapes.value = symbolic ? 'symbolic' : 'concrete';
    this.state = { root, expanded, symbolic };
    this.staleErrors = new Set(errorNodes);
    this.host.querySelector('.agv-root')?.classList.toggle('agv-stale', stale);
    if (stale) {
      const first = errors[0];
      this.banner.textContent = `Stale: the file has ${errors.length || 'some'} error${errors.length === 1 ? '' : 's'}; ` +
        `showing the last good graph.${first ? ' ' + first.message + (first.line ? ` (line ${first.line})` : '') : ''}`;
    }
    this.banner.classList.toggle('hidden', !stale);
    return this.relayout(first);
  }

  relayout(fit: boolean): Promise<void> {
    this.pending = this.pending.then(async () => {
      const lay = await layout(this.ix, this.state);
      const t = performance.now();
      this.canvas.draw(lay, fit);
      for (const id of this.staleErrors) this.canvas.elements.get('n:' + id)?.classList.add('error');
      if (this.selected) this.canvas.highlight([this.selected], 'selected');
      this.lastLayout = lay;
      this.renderCrumbs();
      const g = this.ix.graph;
      this.status.textContent = `${countNodes(this.state.root)} nodes · ${formatCount(g.params)} params` +
        (g.frozen ? ` (+${formatCount(g.frozen)} frozen)` : '') +
        ` · ${lay.items.length} shown · layout ${Math.round(lay.ms)} ms (${lay.stats.elk.length} by elk), ` +
        `draw ${Math.round(performance.now() - t)} ms`;
      const w = window as unknown as { agrippaGraphFirstDraw?: number };
      if (w.agrippaGraphFirstDraw === undefined) {  // ms since navigation: parse, layout and draw
        requestAnimationFrame(() => { w.agrippaGraphFirstDraw = performance.now(); });
        setTimeout(warmLevels, 50);
      }
    }).catch((e) => { this.status.textContent = 'layout failed: ' + e; });
    return this.pending;
  }

  /** Resolves once the layouts asked for so far are drawn. */
  idle(): Promise<void> {
    return this.pending;
  }

  private renderCrumbs(): void {
    this.crumbs.textContent = '';
    const path = this.ix.pathTo(this.state.root);
    path.forEach((g, i) => {
      if (i) h('span', 'sep', this.crumbs, '›');
      const a = h('a', '', this.crumbs, g.title);
      a.dataset.id = g.id;
      a.addEventListener('click', () => this.drill(g.id));
    });
  }

  /** Fit the whole layout into the window. */
  fit(): void {
    this.canvas.fit();
  }

  toggle(id: string): Promise<void> {
    if (this.state.expanded.has(id)) this.state.expanded.delete(id);
    else this.state.expanded.add(id);
    return this.relayout(false);
  }

  expand(id: string): Promise<void> {
    this.state.expanded.add(id);
    return this.relayout(false);
  }

  drill(id: string): Promise<void> {
    const g = this.ix.groups.get(id);
    if (!g) return Promise.resolve();
    this.state.root = g;
    return this.relayout(true);
  }

  private select(it: Item, fromUser: boolean): void {
    this.selected = it.id;
    this.canvas.highlight([it.id], 'selected');
    this.side.classList.remove('hidden');
    if (it.node) this.side.innerHTML = nodeHtml(this.ix, it.node, this.state.symbolic);
    else if (it.group) this.side.innerHTML = groupHtml(this.ix, it.group);
    else this.side.innerHTML = tensorHtml(this.ix, it);
    const r = it.node?.range ?? it.group?.range;
    if (fromUser && r) this.post({ type: 'reveal', file: r.file, line: r.line });
  }

  /** Make a node or group visible (opening the groups around it), centre and select it. */
  async reveal(kind: 'node' | 'group', id: string, cls = 'selected'): Promise<void> {
    const g = kind === 'node' ? this.ix.groupOfNode.get(id) : this.ix.parentOfGroup.get(id) ?? undefined;
    if (kind === 'group' && !this.ix.groups.has(id)) return;
    if (g) {
      if (!this.ix.within(g, this.state.root)) this.state.root = this.ix.graph.root;
      const path = this.ix.pathTo(g);
      for (const p of path.slice(path.indexOf(this.state.root) + 1)) this.state.expanded.add(p.id);
    }
    await this.relayout(false);
    const itemId = (kind === 'node' ? 'n:' : 'g:') + id;
    const item = this.lastLayout?.items.find((i) => i.id === itemId);
    if (!item) return;
    this.canvas.centerOn(itemId);
    if (cls === 'selected') this.select(item, false);
    else this.canvas.highlight([itemId], cls);
  }

  search(q: string): { kind: 'node' | 'group'; id: string; title: string; detail: string }[] {
    const s = q.trim().toLowerCase();
    if (!s) return [];
    const out: { kind: 'node' | 'group'; id: string; title: string; detail: string }[] = [];
    for (const g of this.ix.groups.values()) {
      if (g.title.toLowerCase().includes(s)) out.push({ kind: 'group', id: g.id, title: g.title, detail: g.kind });
    }
    for (const n of this.ix.nodes.values()) {
      if (out.length >= 200) break;
      const hay = [n.title, n.id, n.op, ...n.params.map((p) => p.name), ...n.outputs].join('\n').toLowerCase();
      if (hay.includes(s)) out.push({ kind: 'node', id: n.id, title: n.title, detail: `${n.op} · ${n.id}` });
    }
    return out;
  }

  private showResults(q: string): void {
    const found = this.search(q).slice(0, 60);
    this.results.textContent = '';
    this.results.style.display = found.length ? 'block' : 'none';
    for (const r of found) {
      const d = h('div', 'agv-result', this.results, r.title);
      h('small', '', d, r.detail);
      d.addEventListener('click', () => {
        this.results.style.display = 'none';
        void this.reveal(r.kind, r.id);
      });
    }
  }

  /** Highlight what is at a line of a file (the editor's cursor): the node, or its block. */
  highlightAt(file: string, line: number): void {
    const at = this.ix.at(file, line);
    let id: string | null = null;
    if (at.node) id = representative(this.ix, this.state, at.node.id);
    else if (at.group) {
      const path = this.ix.pathTo(at.group);
      const start = path.indexOf(this.state.root);
      if (start >= 0 && path.length > start + 1) {
        id = 'g:' + at.group.id;
        for (let i = start + 1; i < path.length; i++) {
          if (!this.state.expanded.has(path[i].id)) { id = 'g:' + path[i].id; break; }
        }
      }
    }
    this.canvas.highlight(id ? [id] : [], 'cursor');
  }

  async export(format: 'svg' | 'png'): Promise<string> {
    const lay = this.lastLayout;
    if (!lay) return '';
    const svg = svgText(this.canvas.svg, this.canvas.viewport, lay.width, lay.height);
    const name = `${this.state.root.title.replace(/[^\w.-]+/g, '_') || 'model'}.${format}`;
    if (format === 'svg') {
      if (this.opts.post) this.post({ type: 'export', format, name, text: svg });
      else download(name, new Blob([svg], { type: 'image/svg+xml' }));
      return svg;
    }
    const blob = await pngBlob(svg, lay.width, lay.height);
    if (this.opts.post) {
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      this.post({ type: 'export', format, name, base64: btoa(bin) });
    } else download(name, blob);
    return `png:${blob.size}`;
  }

  /** Messages from a host: a new graph, the cursor. */
  onMessage(msg: HostMessage): void {
    if (msg.type === 'graph') {
      void this.setGraph(msg.graph as ModelGraph, !!msg.stale, (msg.errors as Diag[]) ?? [], (msg.errorNodes as string[]) ?? []);
    } else if (msg.type === 'cursor') {
      this.highlightAt(String(msg.file), Number(msg.line));
    }
  }
}
