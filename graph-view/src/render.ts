// Draws a layout as SVG, with pan (drag) and zoom (wheel) on one transformed <g>.
import { Edge, Item, Layout } from './layout';
import { formatCount } from './model';

const NS = 'http://www.w3.org/2000/svg';
const LOD = 0.3;  // below this zoom, no text (it would be under 4 px)

export interface RenderHooks {
  click(item: Item): void;
  dblclick(item: Item): void;
  toggle(item: Item): void;
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>,
  parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

function text(parent: Element, x: number, y: number, s: string, cls: string, anchor = 'middle'): SVGTextElement {
  const t = el('text', { x, y, class: cls, 'text-anchor': anchor }, parent);
  t.textContent = s;
  return t;
}

function clip(s: string, width: number, char = 7): string {
  const max = Math.max(4, Math.floor(width / char));
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export class Canvas {
  readonly svg: SVGSVGElement;
  readonly viewport: SVGGElement;
  private scale = 1;
  private tx = 0;
  private ty = 0;
  readonly elements = new Map<string, SVGGElement>();
  layout: Layout | null = null;

  constructor(host: HTMLElement, private hooks: RenderHooks) {
    this.svg = el('svg', { class: 'agv-svg', width: '100%', height: '100%' });
    const defs = el('defs', {}, this.svg);
    for (const [id, cls] of [['agv-arrow', 'agv-arrowhead'], ['agv-arrow-bad', 'agv-arrowhead bad']]) {
      const m = el('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
        orient: 'auto-start-reverse' }, defs);
      el('path', { d: 'M0,0 L10,5 L0,10 z', class: cls }, m);
    }
    this.viewport = el('g', { class: 'agv-viewport' }, this.svg);
    host.appendChild(this.svg);
    this.panZoom();
  }

  private apply(): void {
    this.viewport.setAttribute('transform', `translate(${this.tx},${this.ty}) scale(${this.scale})`);
    this.svg.classList.toggle('agv-lod', this.scale < LOD);  // text too small to read is not drawn
  }

  private panZoom(): void {
    let drag: { x: number; y: number; tx: number; ty: number } | null = null;
    this.svg.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const r = this.svg.getBoundingClientRect();
      const mx = ev.clientX - r.left;
      const my = ev.clientY - r.top;
      const f = Math.exp(-ev.deltaY * 0.0015);
      const s = Math.min(8, Math.max(0.03, this.scale * f));
      this.tx = mx - ((mx - this.tx) * s) / this.scale;
      this.ty = my - ((my - this.ty) * s) / this.scale;
      this.scale = s;
      this.apply();
    }, { passive: false });
    this.svg.addEventListener('pointerdown', (ev) => {
      if ((ev.target as Element).closest('.agv-item')) return;
      drag = { x: ev.clientX, y: ev.clientY, tx: this.tx, ty: this.ty };
      this.svg.setPointerCapture(ev.pointerId);
      this.svg.classList.add('dragging');
    });
    this.svg.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      this.tx = drag.tx + ev.clientX - drag.x;
      this.ty = drag.ty + ev.clientY - drag.y;
      this.apply();
    });
    const end = () => { drag = null; this.svg.classList.remove('dragging'); };
    this.svg.addEventListener('pointerup', end);
    this.svg.addEventListener('pointercancel', end);
  }

  zoomBy(f: number): void {
    const r = this.svg.getBoundingClientRect();
    const mx = r.width / 2;
    const my = r.height / 2;
    const s = Math.min(8, Math.max(0.03, this.scale * f));
    this.tx = mx - ((mx - this.tx) * s) / this.scale;
    this.ty = my - ((my - this.ty) * s) / this.scale;
    this.scale = s;
    this.apply();
  }

  fit(): void {
    if (!this.layout) return;
    const r = this.svg.getBoundingClientRect();
    const w = Math.max(1, r.width);
    const h = Math.max(1, r.height);
    const s = Math.min(1.5, Math.min(w / (this.layout.width + 20), h / (this.layout.height + 20)));
    this.scale = Math.max(0.03, s);
    this.tx = (w - this.layout.width * this.scale) / 2;
    this.ty = Math.max(10, (h - this.layout.height * this.scale) / 2);
    this.apply();
  }

  centerOn(id: string): void {
    const it = this.layout?.items.find((i) => i.id === id);
    if (!it) return;
    const r = this.svg.getBoundingClientRect();
    if (this.scale < 0.6) this.scale = 0.9;
    this.tx = r.width / 2 - (it.x + it.width / 2) * this.scale;
    this.ty = r.height / 2 - (it.y + it.height / 2) * this.scale;
    this.apply();
  }

  draw(layout: Layout, fit: boolean): void {
    this.layout = layout;
    this.viewport.textContent = '';
    this.elements.clear();
    const groups = el('g', { class: 'agv-groups' }, this.viewport);
    const edges = el('g', { class: 'agv-edges' }, this.viewport);
    const nodes = el('g', { class: 'agv-nodes' }, this.viewport);
    const sorted = [...layout.items].sort((a, b) => a.depth - b.depth);
    for (const it of sorted) {
      if (it.kind === 'group' && it.expanded) this.drawOpenGroup(groups, it);
      else this.drawBox(nodes, it);
    }
    for (const e of layout.edges) this.drawEdge(edges, e);
    if (fit) this.fit();
    else this.apply();
  }

  private bind(g: SVGGElement, it: Item): void {
    g.addEventListener('click', (ev) => { ev.stopPropagation(); this.hooks.click(it); });
    g.addEventListener('dblclick', (ev) => { ev.stopPropagation(); this.hooks.dblclick(it); });
    this.elements.set(it.id, g);
  }

  private toggleButton(parent: SVGGElement, it: Item, x: number, y: number, open: boolean): void {
    const b = el('g', { class: 'agv-toggle', transform: `translate(${x},${y})` }, parent);
    el('rect', { x: 0, y: 0, width: 16, height: 16, rx: 3 }, b);
    text(b, 8, 12.5, open ? '−' : '+', 'agv-toggle-text');
    b.addEventListener('click', (ev) => { ev.stopPropagation(); this.hooks.toggle(it); });
    b.addEventListener('dblclick', (ev) => ev.stopPropagation());
  }

  private drawOpenGroup(parent: SVGGElement, it: Item): void {
    const g = it.group!;
    const box = el('g', { class: `agv-item agv-group open kind-${g.kind}${g.errors ? ' error' : ''}`,
      'data-id': it.id, transform: `translate(${it.x},${it.y})` }, parent);
    el('rect', { x: 0, y: 0, width: it.width, height: it.height, rx: 6, class: 'agv-group-rect' }, box);
    el('rect', { x: 0, y: 0, width: it.width, height: 26, rx: 6, class: 'agv-group-header' }, box);
    this.toggleButton(box, it, 6, 5, true);
    const label = `${g.title}  ·  ${g.kind}  ·  ${formatCount(g.params)} params`;
    text(box, 28, 18, clip(label, it.width - 36), 'agv-group-title', 'start');
    this.bind(box, it);
  }

  private drawBox(parent: SVGGElement, it: Item): void {
    const cls = ['agv-item', `agv-${it.kind}`];
    if (it.node?.errors || it.group?.errors) cls.push('error');
    if (it.group) cls.push(`kind-${it.group.kind}`);
    if (it.node) cls.push(`op-${it.node.op}`);
    const box = el('g', { class: cls.join(' '), 'data-id': it.id, transform: `translate(${it.x},${it.y})` }, parent);
    if (it.kind === 'input' || it.kind === 'output') {
      el('rect', { x: 0, y: 0, width: it.width, height: it.height, rx: 13 }, box);
      text(box, it.width / 2, 17, clip(it.tensor ?? '', it.width - 10), 'agv-io-text');
      this.bind(box, it);
      return;
    }
    if (it.group) {
      const g = it.group;
      if (g.kind === 'rep' || g.kind === 'stretch') {  // a stack of copies
        el('rect', { x: 6, y: 6, width: it.width, height: it.height, rx: 6, class: 'agv-stack' }, box);
        el('rect', { x: 3, y: 3, width: it.width, height: it.height, rx: 6, class: 'agv-stack' }, box);
      }
      el('rect', { x: 0, y: 0, width: it.width, height: it.height, rx: 6, class: 'agv-box' }, box);
      this.toggleButton(box, it, it.width - 22, 6, false);
      text(box, 10, 20, clip(g.title, it.width - 40), 'agv-title', 'start');
      const copies = g.copies !== undefined && g.copies !== null ? ` ×${g.copies}` : '';
      const sub = `${g.kind}${copies}${g.source ? ' ' + g.source : ''} · ${formatCount(g.params)}`;
      text(box, 10, 40, clip(sub, it.width - 16, 6.2), 'agv-sub', 'start');
    } else if (it.node) {
      const n = it.node;
      el('rect', { x: 0, y: 0, width: it.width, height: it.height, rx: 4, class: 'agv-box' }, box);
      text(box, it.width / 2, 18, clip(n.title, it.width - 10), 'agv-title');
      const sub = n.params.length ? `${n.op} · ${n.params.length}p` : n.op;
      text(box, it.width / 2, 35, clip(sub, it.width - 10, 6.2), 'agv-sub');
    }
    this.bind(box, it);
  }

  private drawEdge(parent: SVGGElement, e: Edge): void {
    if (e.points.length < 2) return;
    const g = el('g', { class: `agv-edge${e.mismatch ? ' mismatch' : ''}`, 'data-source': e.source,
      'data-target': e.target }, parent);
    const d = e.points.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ');
    const path = el('path', { d }, g);
    if (e.arrow) path.setAttribute('marker-end', `url(#${e.mismatch ? 'agv-arrow-bad' : 'agv-arrow'})`);
    const title = el('title', {}, g);
    title.textContent = e.tensors.join(', ');
    if (e.label && e.labelPos) {
      text(g, e.labelPos.x + 2, e.labelPos.y + 11, e.label, 'agv-edge-label', 'start');
    }
  }

  highlight(ids: string[], cls: string): void {
    for (const old of this.viewport.querySelectorAll('.' + cls)) old.classList.remove(cls);
    for (const id of ids) this.elements.get(id)?.classList.add(cls);
  }
}
