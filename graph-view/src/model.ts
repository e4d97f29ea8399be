// The graph JSON `agrippa graph` prints (compiler/agrippa/ide/graph.py) and an index over it.

export interface Range { file: string; line: number; col?: number; end_line?: number }
export interface Diag { severity: string; code: string; message: string; file?: string; line?: number }
export interface ParamInfo {
  name: string; logical: string; shape: (number | string | null)[]; count: number | string | null;
  dtype: string; shared: boolean; frozen: boolean; init?: string;
}
export interface GNode {
  id: string; op: string; title: string; attributes: Record<string, string>; desc: string;
  inputs: string[]; outputs: string[]; params: ParamInfo[]; diagnostics: Diag[]; errors: number;
  range: Range; mismatch?: string[];
}
export interface Group {
  id: string; kind: string; title: string; range: Range; desc: string; children: Group[]; nodes: GNode[];
  params: number | string | null; frozen: number | string | null; errors: number;
  copies?: number | string | null; index?: number; source?: string; subtitle?: string; diagnostics?: Diag[];
}
export interface Tensor {
  shape: (number | string)[] | null; concrete: number[] | null; symbolic: string[] | null; dtype: string;
  kind: string; logical: string; producer: string | null;
}
export interface ModelGraph {
  version: number; index: string; params: number | string | null; frozen: number | string | null;
  root: Group; tensors: Record<string, Tensor>; inputs: string[]; outputs: string[]; errors: number;
  diagnostics: Diag[]; bindings?: Record<string, string>; complete?: boolean;
}

/** Parent links and lookups over one graph. */
export class Index {
  readonly groups = new Map<string, Group>();
  readonly nodes = new Map<string, GNode>();
  readonly parentOfGroup = new Map<string, Group | null>();
  readonly groupOfNode = new Map<string, Group>();
  readonly users = new Map<string, GNode[]>(); // tensor -> nodes reading it

  constructor(readonly graph: ModelGraph) {
    const walk = (g: Group, parent: Group | null) => {
      this.groups.set(g.id, g);
      this.parentOfGroup.set(g.id, parent);
      for (const n of g.nodes) {
        this.nodes.set(n.id, n);
        this.groupOfNode.set(n.id, g);
        for (const t of n.inputs) {
          const list = this.users.get(t);
          if (list) list.push(n);
          else this.users.set(t, [n]);
        }
      }
      for (const c of g.children) walk(c, g);
    };
    walk(graph.root, null);
  }

  /** The groups from the root down to `g` (both included). */
  pathTo(g: Group): Group[] {
    const out: Group[] = [];
    let cur: Group | null | undefined = g;
    while (cur) {
      out.unshift(cur);
      cur = this.parentOfGroup.get(cur.id);
    }
    return out;
  }

  /** Whether `inner` is `outer` or inside it. */
  within(inner: Group, outer: Group): boolean {
    let cur: Group | null | undefined = inner;
    while (cur) {
      if (cur === outer) return true;
      cur = this.parentOfGroup.get(cur.id);
    }
    return false;
  }

  /** The innermost node, else group, whose range covers a line of a file. */
  at(file: string, line: number): { node?: GNode; group?: Group } {
    let best: { node?: GNode; group?: Group } = {};
    let bestSpan = Infinity;
    const covers = (r: Range) => r.file === file && r.line <= line && line <= (r.end_line ?? r.line);
    for (const n of this.nodes.values()) {
      if (covers(n.range)) {
        const span = (n.range.end_line ?? n.range.line) - n.range.line;
        if (span < bestSpan) { best = { node: n }; bestSpan = span; }
      }
    }
    if (best.node) return best;
    for (const g of this.groups.values()) {
      if (g.kind === 'copy' || g.kind === 'model') continue;
      if (covers(g.range)) {
        const span = (g.range.end_line ?? g.range.line) - g.range.line;
        if (span < bestSpan) { best = { group: g }; bestSpan = span; }
      }
    }
    return best;
  }
}

export function formatCount(n: number | string | null | undefined): string {
  if (n === null || n === undefined) return '?';
  if (typeof n === 'string') return n;
  if (n >= 1e9) return (n / 1e9).toFixed(2) + 'B';
  if (n >= 1e6) return (n / 1e6).toFixed(2) + 'M';
  if (n >= 1e4) return (n / 1e3).toFixed(1) + 'K';
  return String(n);
}

export function shapeText(t: Tensor | undefined, symbolic: boolean): string {
  if (!t) return '';
  const s = symbolic ? (t.symbolic ?? t.shape) : (t.concrete ?? t.shape);
  if (!s) return '?';
  return '[' + s.join(', ') + ']';
}
