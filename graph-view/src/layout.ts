// The visible part of the graph (the current group, expanded groups open, the rest folded into
// boxes), laid out level by level: the current group and each open group inside it is one elkjs
// layered layout of its own (levels.ts), innermost first, an open group being a fixed-size box in
// the level around it. Only what is visible is laid out (a folded group is one box, whatever it
// holds), and a level whose content did not change comes from the cache: opening one block lays
// out that block, then places it in the level around it.
import { LevelInput, LevelResult, LevelStats, P, layoutLevel } from './levels';
import { GNode, Group, Index, shapeText } from './model';

export { warmUp, warmLevels, clearLayoutCache } from './levels';

export type ItemKind = 'node' | 'group' | 'input' | 'output';

export interface Item {
  id: string; kind: ItemKind; x: number; y: number; width: number; height: number;
  expanded?: boolean; group?: Group; node?: GNode; tensor?: string; depth: number;
}
export interface Edge {
  id: string; source: string; target: string; tensors: string[]; label: string; arrow: boolean;
  points: P[]; labelPos?: { x: number; y: number; width: number }; mismatch: boolean;
}
/** `stats`: the levels this layout took from elkjs, made room in, or found in the cache. */
export interface Layout { items: Item[]; edges: Edge[]; width: number; height: number; ms: number; stats: LevelStats }

export interface ViewState { root: Group; expanded: Set<string>; symbolic: boolean }

const CHAR = 7;
const ROOT = 'root';

export function nodeSize(n: GNode): [number, number] {
  const chars = Math.max(n.title.length, n.op.length + 2);
  return [Math.min(Math.max(90, chars * CHAR + 24), 260), 44];
}

export function groupSize(g: Group): [number, number] {
  const chars = Math.max(g.title.length + 4, 16);
  return [Math.min(Math.max(130, chars * CHAR + 40), 300), 54];
}

/** Which visible item stands for a node: itself, the outermost folded group holding it, or
 *  null when it is outside the current group. */
export function representative(ix: Index, state: ViewState, nodeId: string): string | null {
  const g = ix.groupOfNode.get(nodeId);
  if (!g) return null;
  const path = ix.pathTo(g);
  const start = path.indexOf(state.root);
  if (start < 0) return null;
  for (let i = start + 1; i < path.length; i++) {
    if (!state.expanded.has(path[i].id)) return 'g:' + path[i].id;
  }
  return 'n:' + nodeId;
}

/** An edge piece inside one level: between members, a member's port, or the level's own port. */
interface Seg { from: string; to: string; tensors: string[]; mismatch: boolean; labelled: boolean }
interface Level { id: string; members: string[]; ports: Map<string, 'NORTH' | 'SOUTH'>; segs: Map<string, Seg> }

/** The visible items, grouped by level, and the edges between them cut at group borders. */
function visible(ix: Index, state: ViewState) {
  const items = new Map<string, Item>();
  const parent = new Map<string, string>(); // item -> its level
  const levels = new Map<string, Level>();
  const level = (id: string): Level => {
    let l = levels.get(id);
    if (!l) levels.set(id, l = { id, members: [], ports: new Map(), segs: new Map() });
    return l;
  };
  const add = (it: Item, lvl: string) => {
    items.set(it.id, it);
    parent.set(it.id, lvl);
    level(lvl).members.push(it.id);
  };
  const build = (g: Group, lvl: string, depth: number) => {
    level(lvl);
    for (const c of g.children) {
      const id = 'g:' + c.id;
      const open = state.expanded.has(c.id);
      const [w, h] = groupSize(c);
      add({ id, kind: 'group', group: c, expanded: open, x: 0, y: 0, width: w, height: h, depth }, lvl);
      if (open) build(c, id, depth + 1);
    }
    for (const n of g.nodes) {
      const [w, h] = nodeSize(n);
      add({ id: 'n:' + n.id, kind: 'node', node: n, x: 0, y: 0, width: w, height: h, depth }, lvl);
    }
  };
  build(state.root, ROOT, 0);
  const pseudo = (kind: 'input' | 'output', tensor: string): string => {
    const id = (kind === 'input' ? 'i:' : 'o:') + tensor;
    if (!items.has(id)) {
      const w = Math.min(Math.max(70, tensor.length * CHAR + 20), 240);
      add({ id, kind, tensor, x: 0, y: 0, width: w, height: 26, depth: 0 }, ROOT);
    }
    return id;
  };
  const chain = (id: string): string[] => {
    const out: string[] = [];
    for (let cur = parent.get(id); cur; cur = cur === ROOT ? undefined : parent.get(cur)) out.push(cur);
    return out;
  };
  const seg = (lvl: string, from: string, to: string, tensor: string, mismatch: boolean, labelled: boolean) => {
    const segs = level(lvl).segs;
    const key = from + '\u0000' + to;
    const s = segs.get(key);
    if (!s) segs.set(key, { from, to, tensors: [tensor], mismatch, labelled });
    else {
      if (!s.tensors.includes(tensor)) s.tensors.push(tensor);
      s.mismatch ||= mismatch;
    }
  };
  const seen = new Set<string>();
  // an edge from item s to item t: out through the ports of the open groups around s, across
  // their lowest common level, in through the ports of the open groups around t (a port per
  // tensor: its id stays when an edit changes the tensor's producer)
  const addEdge = (s: string, t: string, tensor: string, mismatch: boolean) => {
    if (s === t) return;
    const k = s + '\u0000' + t + '\u0000' + tensor;
    if (seen.has(k)) return;
    seen.add(k);
    const up = chain(s);
    const down = chain(t);
    const common = new Set(down);
    const lca = up.find((l) => common.has(l)) ?? ROOT;
    let a = s;
    for (const l of up) {
      if (l === lca) break;
      const port = `${l}\u0000out\u0000${tensor}`;
      level(l).ports.set(port, 'SOUTH');
      seg(l, a, port, tensor, mismatch, false);
      a = port;
    }
    let b = t;
    for (const l of down) {
      if (l === lca) break;
      const port = `${l}\u0000in\u0000${tensor}`;
      level(l).ports.set(port, 'NORTH');
      seg(l, port, b, tensor, mismatch, false);
      b = port;
    }
    seg(lca, a, b, tensor, mismatch, true);
  };
  const graph = ix.graph;
  for (const n of ix.nodes.values()) {
    const target = representative(ix, state, n.id);
    for (const t of n.inputs) {
      const tensor = graph.tensors[t];
      if (!tensor || tensor.kind === 'constant') continue;
      const src = tensor.producer ? representative(ix, state, tensor.producer) : null;
      const mismatch = !!n.mismatch?.includes(t);
      if (target === null) {
        if (src !== null) addEdge(src, pseudo('output', t), t, mismatch); // read outside the current group
      } else if (src === null) {
        if (tensor.kind === 'input' || tensor.producer) addEdge(pseudo('input', t), target, t, mismatch);
      } else addEdge(src, target, t, mismatch);
    }
  }
  if (state.root === graph.root) {
    for (const t of graph.outputs) {
      const p = graph.tensors[t]?.producer;
      const src = p ? representative(ix, state, p) : null;
      if (src) addEdge(src, pseudo('output', t), t, false);
    }
  }
  return { items, levels };
}

function segLabel(ix: Index, s: Seg, symbolic: boolean): string {
  if (!s.labelled) return '';
  const first = shapeText(ix.graph.tensors[s.tensors[0]], symbolic);
  return s.tensors.length > 1 ? `${first} +${s.tensors.length - 1}` : first;
}

export async function layout(ix: Index, state: ViewState): Promise<Layout> {
  const t0 = performance.now();
  const { items, levels } = visible(ix, state);
  const stats: LevelStats = { elk: [], room: [], cached: [], ms: { visible: performance.now() - t0 } };
  const results = new Map<string, LevelResult>();
  // innermost first: a level needs the size and ports of the open groups in it
  const solve = async (id: string): Promise<LevelResult> => {
    const l = levels.get(id)!;
    const open = l.members.filter((m) => levels.has(m));
    const inner = await Promise.all(open.map(solve));
    const sub = new Map(open.map((m, i) => [m, inner[i]]));
    const input: LevelInput = { id, header: id !== ROOT, ports: [...l.ports].map(([p, side]) => ({ id: p, side })),
      nodes: l.members.map((m) => {
        const r = sub.get(m);
        const it = items.get(m)!;
        if (!r) return it.kind === 'group' ? { id: m, width: it.width, height: it.height, group: true }
          : { id: m, width: it.width, height: it.height };
        const ports = r.input.ports.map((p) => ({ id: p.id, side: p.side, ...r.ports.get(p.id)! }));
        return { id: m, width: r.width, height: r.height, group: true, ports };
      }),
      edges: [...l.segs.values()].map((s) => ({ id: s.from + '\u0000' + s.to, from: s.from, to: s.to,
        label: segLabel(ix, s, state.symbolic) })) };
    const res = await layoutLevel(input, stats);
    results.set(id, res);
    return res;
  };
  const t1 = performance.now();
  const top = await solve(ROOT);
  stats.ms.levels = performance.now() - t1;
  const out: Layout = { items: [], edges: [], width: top.width, height: top.height, ms: 0, stats };
  const place = (id: string, ox: number, oy: number) => {
    const res = results.get(id)!;
    const l = levels.get(id)!;
    for (const m of l.members) {
      const it = items.get(m)!;
      const r = res.pos.get(m);
      if (r) Object.assign(it, { x: ox + r.x, y: oy + r.y, width: r.width, height: r.height });
      out.items.push(it);
      if (levels.has(m)) place(m, it.x, it.y);
    }
    for (const s of l.segs.values()) {
      const route = res.routes.get(s.from + '\u0000' + s.to);
      if (!route) continue;
      const label = segLabel(ix, s, state.symbolic);
      const end = (e: string) => items.has(e) ? e : e.split('\u0000')[0];
      out.edges.push({ id: `e${out.edges.length}`, source: end(s.from), target: end(s.to), tensors: s.tensors, label,
        mismatch: s.mismatch, arrow: items.has(s.to),
        points: route.points.map((p) => ({ x: ox + p.x, y: oy + p.y })),
        labelPos: route.label && label ? { x: ox + route.label.x, y: oy + route.label.y, width: label.length * 6 + 6 } : undefined });
    }
  };
  place(ROOT, 0, 0);
  out.ms = performance.now() - t0;
  return out;
}
