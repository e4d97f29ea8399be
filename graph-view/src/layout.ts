// The visible part of the graph (the current group, expanded groups open, the rest folded into
// boxes) as an ELK compound graph, laid out by elkjs's layered algorithm. Only what is visible is
// laid out: a folded group is one box, whatever it holds.
import ELK from 'elkjs/lib/elk-api.js';
import ELK_WORKER from 'elkjs/lib/elk-worker.min.js?text';

import { GNode, Group, Index, shapeText } from './model';

export type ItemKind = 'node' | 'group' | 'input' | 'output';

export interface Item {
  id: string; kind: ItemKind; x: number; y: number; width: number; height: number;
  expanded?: boolean; group?: Group; node?: GNode; tensor?: string; depth: number;
}
export interface Edge {
  id: string; source: string; target: string; tensors: string[]; label: string;
  points: { x: number; y: number }[]; labelPos?: { x: number; y: number; width: number }; mismatch: boolean;
}
export interface Layout { items: Item[]; edges: Edge[]; width: number; height: number; ms: number }

export interface ViewState { root: Group; expanded: Set<string>; symbolic: boolean }

const CHAR = 7;
const HEADER = 34;
const LARGE = 150; // visible items above which the layout trades some polish for speed

interface ElkNode {
  id: string; width?: number; height?: number; x?: number; y?: number; children?: ElkNode[];
  edges?: ElkEdge[]; layoutOptions?: Record<string, string>; labels?: unknown[];
}
interface ElkEdge {
  id: string; sources: string[]; targets: string[];
  labels?: { text: string; width: number; height: number; x?: number; y?: number }[];
  sections?: { startPoint: P; endPoint: P; bendPoints?: P[] }[];
}
interface P { x: number; y: number }

/** elkjs runs in a Web Worker made from its inlined source (a blob: URL: nothing is fetched),
 *  so compiling its 1.6 MB happens off the page's thread; where workers are refused, in the
 *  page (elkjs's own fallback). */
function elkWorker(): Worker {
  try {
    const url = URL.createObjectURL(new Blob([ELK_WORKER], { type: 'text/javascript' }));
    return new Worker(url);
  } catch {
    const m: { exports: { default?: new () => Worker } } = { exports: {} };
    new Function('module', 'exports', ELK_WORKER)(m, m.exports);
    return new m.exports.default!();
  }
}

let elkInstance: InstanceType<typeof ELK> | undefined;
function getElk(): InstanceType<typeof ELK> {
  elkInstance ??= new ELK({ workerFactory: elkWorker });
  return elkInstance;
}

/** Start elkjs (compile its worker) before the first layout is asked for. */
export function warmUp(): void {
  try {
    getElk();
  } catch (e) {
    console.error('agrippa graph: elkjs did not start', e);  // the first layout reports it
  }
}

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

export async function layout(ix: Index, state: ViewState): Promise<Layout> {
  const t0 = performance.now();
  const parent = new Map<string, string>(); // visible item -> containing elk node id
  const items = new Map<string, Item>();
  const build = (g: Group, elkId: string, depth: number): ElkNode[] => {
    const out: ElkNode[] = [];
    for (const c of g.children) {
      const id = 'g:' + c.id;
      parent.set(id, elkId);
      const open = state.expanded.has(c.id);
      items.set(id, { id, kind: 'group', group: c, expanded: open, x: 0, y: 0, width: 0, height: 0, depth });
      if (open) {
        out.push({ id, children: build(c, id, depth + 1), layoutOptions: {
          'elk.padding': `[top=${HEADER},left=12,bottom=12,right=12]` } });
      } else {
        const [w, h] = groupSize(c);
        out.push({ id, width: w, height: h });
      }
    }
    for (const n of g.nodes) {
      const id = 'n:' + n.id;
      parent.set(id, elkId);
      const [w, h] = nodeSize(n);
      items.set(id, { id, kind: 'node', node: n, x: 0, y: 0, width: w, height: h, depth });
      out.push({ id, width: w, height: h });
    }
    return out;
  };
  const children = build(state.root, 'root', 0);
  const graph = ix.graph;
  const edges = new Map<string, { source: string; target: string; tensors: string[]; mismatch: boolean }>();
  const addEdge = (source: string, target: string, tensor: string, mismatch: boolean) => {
    if (source === target) return;
    const key = source + '\u0000' + target;
    const e = edges.get(key);
    if (e) {
      if (!e.tensors.includes(tensor)) e.tensors.push(tensor);
      e.mismatch = e.mismatch || mismatch;
    } else edges.set(key, { source, target, tensors: [tensor], mismatch });
  };
  const pseudo = (kind: 'input' | 'output', tensor: string): string => {
    const id = (kind === 'input' ? 'i:' : 'o:') + tensor;
    if (!items.has(id)) {
      const w = Math.min(Math.max(70, tensor.length * CHAR + 20), 240);
      items.set(id, { id, kind, tensor, x: 0, y: 0, width: w, height: 26, depth: 0 });
      parent.set(id, 'root');
      children.push({ id, width: w, height: 26 });
    }
    return id;
  };
  const isRootView = state.root === graph.root;
  for (const n of ix.nodes.values()) {
    const target = representative(ix, state, n.id);
    for (const t of n.inputs) {
      const tensor = graph.tensors[t];
      if (!tensor || tensor.kind === 'constant') continue;
      const src = tensor.producer ? representative(ix, state, tensor.producer) : null;
      const mismatch = !!n.mismatch?.includes(t);
      if (target === null) {
        if (src !== null) addEdge(src, pseudo('output', t), t, mismatch); // read outside the current group
        continue;
      }
      if (src === null) {
        if (tensor.kind === 'input' || tensor.producer) addEdge(pseudo('input', t), target, t, mismatch);
        continue;
      }
      addEdge(src, target, t, mismatch);
    }
  }
  if (isRootView) {
    for (const t of graph.outputs) {
      const p = graph.tensors[t]?.producer;
      const src = p ? representative(ix, state, p) : null;
      if (src) addEdge(src, pseudo('output', t), t, false);
    }
  }
  // each edge goes in the lowest common ancestor of its ends
  const ancestors = (id: string): string[] => {
    const out: string[] = [];
    let cur = parent.get(id);
    while (cur) {
      out.push(cur);
      cur = cur === 'root' ? undefined : parent.get(cur);
    }
    return out;
  };
  const elkNodes = new Map<string, ElkNode>();
  const root: ElkNode = { id: 'root', children, edges: [], layoutOptions: {
    'elk.algorithm': 'layered', 'elk.direction': 'DOWN', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
    'elk.layered.spacing.nodeNodeBetweenLayers': '36', 'elk.spacing.nodeNode': '22',
    'elk.spacing.edgeLabel': '4', 'elk.edgeRouting': 'ORTHOGONAL',
    'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    'elk.json.shapeCoords': 'ROOT', 'elk.json.edgeCoords': 'ROOT', 'elk.padding': '[top=16,left=16,bottom=16,right=16]',
  } };
  if (items.size > LARGE) {  // many boxes: fewer crossing-minimisation sweeps, a cheaper layering
    Object.assign(root.layoutOptions!, { 'elk.layered.thoroughness': '1', 'elk.layered.layering.strategy': 'LONGEST_PATH' });
  }
  const index = (n: ElkNode) => {
    elkNodes.set(n.id, n);
    for (const c of n.children ?? []) index(c);
  };
  index(root);
  let k = 0;
  const edgeInfo = new Map<string, { tensors: string[]; mismatch: boolean; source: string; target: string; label: string }>();
  for (const e of edges.values()) {
    const a = ancestors(e.source);
    const b = new Set(ancestors(e.target));
    let lca = a.find((x) => b.has(x)) ?? 'root';
    if (e.target.startsWith('g:') && a.includes(e.target)) lca = parent.get(e.target) ?? 'root';
    if (e.source.startsWith('g:') && b.has(e.source)) lca = parent.get(e.source) ?? 'root';
    const id = 'e' + k++;
    const first = shapeText(graph.tensors[e.tensors[0]], state.symbolic);
    const label = e.tensors.length > 1 ? `${first} +${e.tensors.length - 1}` : first;
    const container = elkNodes.get(lca) ?? root;
    (container.edges ??= []).push({ id, sources: [e.source], targets: [e.target],
      labels: label ? [{ text: label, width: label.length * 6 + 6, height: 14 }] : [] });
    edgeInfo.set(id, { ...e, label });
  }
  performance.mark('agv-elk');
  const out = (await getElk().layout(root as never)) as unknown as ElkNode;
  performance.mark('agv-elk-done');
  const result: Layout = { items: [], edges: [], width: out.width ?? 0, height: out.height ?? 0, ms: 0 };
  const collect = (n: ElkNode) => {
    for (const c of n.children ?? []) {
      const it = items.get(c.id);
      if (it) {
        it.x = c.x ?? 0; it.y = c.y ?? 0; it.width = c.width ?? it.width; it.height = c.height ?? it.height;
        result.items.push(it);
      }
      collect(c);
    }
    for (const e of n.edges ?? []) {
      const info = edgeInfo.get(e.id);
      if (!info) continue;
      const points: P[] = [];
      for (const s of e.sections ?? []) points.push(s.startPoint, ...(s.bendPoints ?? []), s.endPoint);
      const l = e.labels?.[0];
      result.edges.push({ id: e.id, source: info.source, target: info.target, tensors: info.tensors,
        label: info.label, mismatch: info.mismatch, points,
        labelPos: l && l.x !== undefined ? { x: l.x, y: l.y ?? 0, width: l.width } : undefined });
    }
  };
  collect(out);
  result.ms = performance.now() - t0;
  return result;
}
