// One level of the view (the current group, or an open group inside it) laid out on its own by
// elkjs: its members as fixed-size boxes (an open child group is a box of its own interior's size
// with ports where its inner edges cross its border), its edges, and its own border ports. Results
// are cached by the level's exact input, so a level whose content did not change is never laid out
// again. A level of many boxes whose structure is unchanged (only a child group grew) is not laid
// out again either: its last layout makes room for the grown child (see makeRoom).
import ELK from 'elkjs/lib/elk-api.js';
import ELK_WORKER from 'elkjs/lib/elk-worker.min.js?text';

export interface P { x: number; y: number }
export interface Rect { x: number; y: number; width: number; height: number }
export interface PortIn { id: string; x: number; y: number; side: 'NORTH' | 'SOUTH' }
export interface NodeIn { id: string; width: number; height: number; group?: boolean; ports?: PortIn[] }
export interface EdgeIn { id: string; from: string; to: string; label: string }
/** What is laid out: JSON-stable, so that its text is the cache key. */
export interface LevelInput {
  id: string; header: boolean; nodes: NodeIn[]; ports: { id: string; side: 'NORTH' | 'SOUTH' }[]; edges: EdgeIn[];
}
export interface Route { points: P[]; label?: P }
/** A level laid out, relative to its own top-left corner. */
export interface LevelResult {
  width: number; height: number; pos: Map<string, Rect>; ports: Map<string, P>; routes: Map<string, Route>;
  input: LevelInput; by: 'elk' | 'room';
}

const HEADER = 34;
const LARGE = 150;     // boxes above which elk trades some polish for speed
const ROOM_MIN = 60;   // boxes above which a grown child makes room instead of a new layout
const CACHE_MAX = 200;  // layouts kept (a level of the 15,000-line model's top is ~0.2 MB)

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

interface ElkNode {
  id: string; width?: number; height?: number; x?: number; y?: number; children?: ElkNode[]; ports?: ElkNode[];
  edges?: ElkEdge[]; layoutOptions?: Record<string, string>;
}
interface ElkEdge {
  id: string; sources: string[]; targets: string[];
  labels?: { text: string; width: number; height: number; x?: number; y?: number }[];
  sections?: { startPoint: P; endPoint: P; bendPoints?: P[] }[];
}

const BASE: Record<string, string> = {
  'elk.algorithm': 'layered', 'elk.direction': 'DOWN', 'elk.json.shapeCoords': 'ROOT', 'elk.json.edgeCoords': 'ROOT',
};

async function runElk(input: LevelInput): Promise<LevelResult> {
  const side = (s: string) => ({ 'elk.port.side': s });
  const level: ElkNode = {
    id: input.id,
    layoutOptions: { ...BASE, 'elk.layered.spacing.nodeNodeBetweenLayers': '36', 'elk.spacing.nodeNode': '22',
      'elk.spacing.edgeLabel': '4', 'elk.edgeRouting': 'ORTHOGONAL', 'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.portConstraints': 'FIXED_SIDE',
      'elk.padding': input.header ? `[top=${HEADER},left=12,bottom=12,right=12]` : '[top=16,left=16,bottom=16,right=16]' },
    ports: input.ports.map((p) => ({ id: p.id, width: 1, height: 1, layoutOptions: side(p.side) })),
    children: input.nodes.map((n) => n.ports ? {
      id: n.id, width: n.width, height: n.height, layoutOptions: { 'elk.portConstraints': 'FIXED_POS' },
      ports: n.ports.map((p) => ({ id: p.id, x: p.x - 0.5, y: p.side === 'NORTH' ? 0 : p.y, width: 1, height: 1,
        layoutOptions: side(p.side) })),
    } : { id: n.id, width: n.width, height: n.height }),
    edges: input.edges.map((e) => ({ id: e.id, sources: [e.from], targets: [e.to],
      labels: e.label ? [{ text: e.label, width: e.label.length * 6 + 6, height: 14 }] : [] })),
  };
  if (input.nodes.length > LARGE) {  // many boxes: fewer crossing-minimisation sweeps, a cheaper layering
    Object.assign(level.layoutOptions!, { 'elk.layered.thoroughness': '1', 'elk.layered.layering.strategy': 'LONGEST_PATH' });
  }
  // the level is the one child of a wrapper (elkjs lays out border ports only on a non-root
  // node) which keeps it where it is: 'fixed' costs nothing, unlike a second layered run
  const wrapper: ElkNode = { id: '\u0000wrap', layoutOptions: { 'elk.algorithm': 'fixed',
    'elk.json.shapeCoords': 'ROOT', 'elk.json.edgeCoords': 'ROOT' }, children: [level] };
  const out = ((await getElk().layout(wrapper as never)) as unknown as ElkNode).children![0];
  const ox = out.x ?? 0;
  const oy = out.y ?? 0;
  const res: LevelResult = { width: out.width ?? 0, height: out.height ?? 0, pos: new Map(), ports: new Map(),
    routes: new Map(), input, by: 'elk' };
  for (const c of out.children ?? []) {
    res.pos.set(c.id, { x: (c.x ?? 0) - ox, y: (c.y ?? 0) - oy, width: c.width ?? 0, height: c.height ?? 0 });
  }
  const sides = new Map(input.ports.map((p) => [p.id, p.side]));
  for (const p of out.ports ?? []) {
    res.ports.set(p.id, { x: (p.x ?? 0) - ox + (p.width ?? 0) / 2, y: sides.get(p.id) === 'NORTH' ? 0 : res.height });
  }
  for (const e of out.edges ?? []) {
    const points: P[] = [];
    for (const s of e.sections ?? []) points.push(s.startPoint, ...(s.bendPoints ?? []), s.endPoint);
    const l = e.labels?.[0];
    res.routes.set(e.id, { points: points.map((p) => ({ x: p.x - ox, y: p.y - oy })),
      label: l && l.x !== undefined ? { x: l.x - ox, y: (l.y ?? 0) - oy } : undefined });
  }
  return res;
}

/** Run a small level through elkjs once (border ports, a child with fixed ports, labels) so
 *  that the worker has compiled those paths before the first group is opened. */
export function warmLevels(): void {
  const nodes: NodeIn[] = [{ id: 'a', width: 90, height: 44 }, { id: 'b', width: 90, height: 44 },
    { id: 'c', width: 200, height: 120, group: true, ports: [{ id: 'ci', x: 50, y: 0, side: 'NORTH' },
      { id: 'co', x: 50, y: 120, side: 'SOUTH' }] }];
  const edges: EdgeIn[] = [{ id: '1', from: 'i', to: 'a', label: '' }, { id: '2', from: 'a', to: 'ci', label: '[4, 16]' },
    { id: '3', from: 'co', to: 'b', label: '[4, 16]' }, { id: '4', from: 'b', to: 'o', label: '' }];
  const input: LevelInput = { id: 'warm', header: true, nodes, edges,
    ports: [{ id: 'i', side: 'NORTH' }, { id: 'o', side: 'SOUTH' }] };
  void (async () => {
    for (let i = 0; i < 3; i++) await runElk(input).catch(() => undefined);
  })();
}

/** Which member an edge end belongs to: itself, or the child group whose port it is. */
function owners(input: LevelInput): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of input.nodes) {
    m.set(n.id, n.id);
    for (const p of n.ports ?? []) m.set(p.id, n.id);
  }
  return m;
}

/** The level's structure, whatever the size and ports of its child groups. */
function structure(input: LevelInput): string {
  const own = owners(input);
  const pairs = new Set(input.edges.map((e) => (own.get(e.from) ?? e.from) + '\u0000' + (own.get(e.to) ?? e.to)));
  return JSON.stringify([input.id, input.header, input.ports,
    input.nodes.map((n) => n.group ? n.id : [n.id, n.width, n.height]), [...pairs].sort()]);
}

/** The last layout of a level, grown where its child groups grew: everything right of a grown
 *  child moves right by the growth, everything below it moves down (orthogonal routes stay
 *  orthogonal, no box overlaps), and edges re-attach to the child's new ports. Layers and order
 *  stay as elkjs made them, so nothing else moves about. */
function makeRoom(prev: LevelResult, input: LevelInput): LevelResult | null {
  const pos = new Map([...prev.pos].map(([k, r]) => [k, { ...r }]));
  const ports = new Map([...prev.ports].map(([k, p]) => [k, { ...p }]));
  const prevOwn = owners(prev.input);
  const byPair = new Map<string, Route>();
  for (const e of prev.input.edges) {
    const r = prev.routes.get(e.id);
    const key = (prevOwn.get(e.from) ?? e.from) + '\u0000' + (prevOwn.get(e.to) ?? e.to);
    if (r && !byPair.has(key)) byPair.set(key, { points: r.points.map((p) => ({ ...p })), label: r.label && { ...r.label } });
  }
  let width = prev.width;
  let height = prev.height;
  const prevNodes = new Map(prev.input.nodes.map((n) => [n.id, n]));
  for (const n of input.nodes) {
    const r = pos.get(n.id);
    const old = prevNodes.get(n.id);
    if (!r || !old || (old.width === n.width && old.height === n.height)) continue;
    // a box that shrank (a group closed) leaves its edges short of it: a fresh layout instead;
    // an open group's edges re-attach to its ports whatever its size
    if (!n.ports && (n.width < r.width || n.height < r.height)) return null;
    const dw = Math.max(0, n.width - r.width);
    const dh = Math.max(0, n.height - r.height);
    const sx = r.x + r.width;
    const sy = r.y + r.height;
    const shift = (p: P) => { if (p.x >= sx) p.x += dw; if (p.y >= sy) p.y += dh; };
    for (const q of pos.values()) if (q !== r) shift(q);
    for (const q of ports.values()) shift(q);
    for (const route of byPair.values()) {
      route.points.forEach(shift);
      if (route.label) shift(route.label);
    }
    r.width = n.width;
    r.height = n.height;
    width += dw;
    height += dh;
  }
  const own = owners(input);
  const portAt = new Map<string, P>();
  for (const n of input.nodes) {
    const r = pos.get(n.id)!;
    for (const p of n.ports ?? []) portAt.set(p.id, { x: r.x + p.x, y: r.y + p.y });
  }
  const routes = new Map<string, Route>();
  const labelled = new Set<string>();
  for (const e of input.edges) {
    const key = (own.get(e.from) ?? e.from) + '\u0000' + (own.get(e.to) ?? e.to);
    const base = byPair.get(key);
    if (!base) continue;
    let points = base.points.map((p) => ({ ...p }));
    const a = portAt.get(e.from);
    const b = portAt.get(e.to);
    if (a) points = jog(points.reverse(), a, 1).reverse();
    if (b) points = jog(points, b, -1);
    routes.set(e.id, { points, label: labelled.has(key) ? undefined : base.label });
    labelled.add(key);
  }
  return { width, height, pos, ports, routes, input, by: 'room' };
}

/** Re-attach a route's last point to `to`, with a short horizontal step just before it
 *  (`dir` -1: arriving downwards at a top port, 1: leaving upwards from a bottom one, reversed). */
function jog(points: P[], to: P, dir: number): P[] {
  const last = points[points.length - 1];
  if (!last) return [to];
  if (Math.abs(last.x - to.x) < 1) return [...points.slice(0, -1), { x: to.x, y: to.y }];
  const before = points[points.length - 2] ?? last;
  const step = Math.max(2, Math.min(10, Math.abs(last.y - before.y) / 2));
  const y = to.y + dir * step;
  return [...points.slice(0, -1), { x: last.x, y }, { x: to.x, y }, { x: to.x, y: to.y }];
}

const cache = new Map<string, LevelResult>();   // exact input -> layout
const lastOf = new Map<string, LevelResult>();   // structure -> latest layout

/** Which levels a layout took from elkjs, made room in or found cached; ms spent where. */
export interface LevelStats { elk: string[]; room: string[]; cached: string[]; ms: Record<string, number> }

/** Lay out one level: from the cache, by making room in its last layout, or by elkjs. */
export async function layoutLevel(input: LevelInput, stats: LevelStats): Promise<LevelResult> {
  const key = JSON.stringify(input);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);  // most recently used last
    cache.set(key, hit);
    stats.cached.push(input.id);
    return hit;
  }
  const shape = structure(input);
  const prev = input.nodes.length > ROOM_MIN ? lastOf.get(shape) : undefined;
  let res = prev && makeRoom(prev, input);
  if (res) stats.room.push(input.id);
  else {
    const t = performance.now();
    res = await runElk(input);
    stats.elk.push(input.id);
    stats.ms.elk = (stats.ms.elk ?? 0) + performance.now() - t;
  }
  cache.set(key, res);
  lastOf.set(shape, res);
  for (const k of cache.keys()) {
    if (cache.size <= CACHE_MAX) break;
    cache.delete(k);
  }
  if (lastOf.size > CACHE_MAX) lastOf.delete(lastOf.keys().next().value!);
  return res;
}

/** Forget every cached layout (the benchmark's "everything from scratch"). */
export function clearLayoutCache(): void {
  cache.clear();
  lastOf.clear();
}
