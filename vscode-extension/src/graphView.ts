// "Agrippa: Show Model Graph": a webview beside the editor drawing the model's block graph
// (graph-view/, bundled into dist/graph-view.js). The graph comes from the language server's
// `agrippa/graph` request, so it and the diagnostics come from the same analysis. The view
// follows edits (while the project has errors the last good graph stays, marked stale, with the
// nodes in error shown), clicking a node reveals its line, and the cursor highlights its node.
import * as vscode from 'vscode';

import { LANGUAGE_ID } from './constants';

export const GRAPH_REQUEST = 'agrippa/graph';
const DEBOUNCE_MS = 250;

interface GraphClient {
  sendRequest<R>(method: string, params: unknown): Promise<R>;
  isRunning(): boolean;
}
type Graph = { errors: number; diagnostics?: unknown[]; root: GroupLike; index: string };
type GroupLike = { nodes: { id: string; errors: number }[]; children: GroupLike[] };

function errorNodes(g: GroupLike, out: string[] = []): string[] {
  for (const n of g.nodes) if (n.errors) out.push(n.id);
  for (const c of g.children) errorNodes(c, out);
  return out;
}

function nonce(): string {
  let s = '';
  for (let i = 0; i < 32; i++) s += 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 62)];
  return s;
}

/** The webview page: only the bundled script (by nonce) runs; nothing is fetched. */
export function webviewHtml(scriptUri: string, cspSource: string, n: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline' ${cspSource}; script-src 'nonce-${n}'; img-src data: blob: ${cspSource}; worker-src blob:;">
<style>html,body{margin:0;padding:0;height:100%;overflow:hidden}#agrippa-graph{position:fixed;inset:0}</style>
</head><body><div id="agrippa-graph"></div><script nonce="${n}" src="${scriptUri}"></script></body></html>`;
}

/** Code lens "Show Model Graph" on the `<model>` line. */
class ModelLens implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const max = Math.min(doc.lineCount, 200);
    for (let i = 0; i < max; i++) {
      const col = doc.lineAt(i).text.indexOf('<model');
      if (col >= 0) {
        return [new vscode.CodeLens(new vscode.Range(i, col, i, col + 6),
          { title: '$(type-hierarchy) Show Model Graph', command: 'agrippa.showGraph', arguments: [doc.uri] })];
      }
    }
    return [];
  }
}

export class GraphViews implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private uri: vscode.Uri | undefined;
  private lastGood: Graph | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ready = false;
  private seq = 0;
  private retries = 0;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly client: () => Promise<GraphClient | undefined>,
    private readonly log: vscode.OutputChannel) {
    this.subs.push(
      vscode.languages.registerCodeLensProvider({ language: LANGUAGE_ID }, new ModelLens()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.panel && e.document.languageId === LANGUAGE_ID && e.contentChanges.length) this.schedule();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => this.cursor(e.textEditor)),
      vscode.window.onDidChangeActiveTextEditor((ed) => {
        if (this.panel && ed?.document.languageId === LANGUAGE_ID && ed.document.uri.toString() !== this.uri?.toString()) {
          this.uri = ed.document.uri;
          this.schedule(0);
        }
      }),
    );
  }

  /** The command: the view for the given or active model, if there is one. */
  showFor(uri: vscode.Uri | undefined): void {
    if (uri) this.show(uri);
  }

  /** Open (or reveal) the view for a model beside its editor. */
  show(uri: vscode.Uri): void {
    this.uri = uri;
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      this.schedule(0);
      return;
    }
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel('agrippa.graph', 'Model Graph', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [dist] });
    const script = panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'graph-view.js'));
    panel.webview.html = webviewHtml(script.toString(), panel.webview.cspSource, nonce());
    panel.webview.onDidReceiveMessage((m) => void this.onMessage(m), undefined, this.subs);
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
      this.lastGood = undefined;
    }, undefined, this.subs);
    this.panel = panel;
  }

  private schedule(delay = DEBOUNCE_MS): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), delay);
  }

  /** Ask the server for the graph and send it to the webview. */
  async refresh(): Promise<void> {
    const panel = this.panel;
    const uri = this.uri;
    if (!panel || !uri || !this.ready) return;
    const mine = ++this.seq;
    const client = await this.client();
    if (!client || !client.isRunning()) {  // still starting: try again shortly
      if (this.retries++ < 120) this.schedule(500);
      return;
    }
    this.retries = 0;
    let got: { graph: Graph | null } | undefined;
    try {
      got = await client.sendRequest<{ graph: Graph | null }>(GRAPH_REQUEST, { uri: uri.toString() });
    } catch (e) {
      this.log.appendLine(`graph request failed: ${e}`);
      return;
    }
    if (mine !== this.seq || !this.panel) return; // a newer request is on its way
    const graph = got?.graph;
    if (!graph) return;
    panel.title = `Graph: ${graph.index.split(/[\\/]/).pop()}`;
    if (graph.errors && this.lastGood) {
      void panel.webview.postMessage({ type: 'graph', graph: this.lastGood, stale: true,
        errors: graph.diagnostics ?? [], errorNodes: errorNodes(graph.root) });
      return;
    }
    if (!graph.errors) this.lastGood = graph;
    void panel.webview.postMessage({ type: 'graph', graph, stale: false });
    const ed = vscode.window.activeTextEditor;
    if (ed) this.cursor(ed);
  }

  private cursor(editor: vscode.TextEditor): void {
    if (!this.panel || !this.ready || editor.document.languageId !== LANGUAGE_ID) return;
    void this.panel.webview.postMessage({ type: 'cursor', file: editor.document.uri.fsPath,
      line: editor.selection.active.line + 1 });
  }

  private async onMessage(m: { type?: string; [k: string]: unknown }): Promise<void> {
    if (m.type === 'ready') {
      this.ready = true;
      await this.refresh();
    } else if (m.type === 'reveal' && typeof m.file === 'string') {
      const line = Math.max(0, Number(m.line ?? 1) - 1);
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(m.file));
      const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === doc.uri.fsPath);
      const ed = await vscode.window.showTextDocument(doc, { viewColumn: shown?.viewColumn ?? vscode.ViewColumn.One,
        preserveFocus: false });
      const pos = new vscode.Position(line, doc.lineAt(Math.min(line, doc.lineCount - 1)).firstNonWhitespaceCharacterIndex);
      ed.selection = new vscode.Selection(pos, pos);
      ed.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    } else if (m.type === 'export') {
      const name = String(m.name ?? `model.${m.format}`);
      const base = this.uri ? vscode.Uri.joinPath(this.uri, '..', name) : undefined;
      const target = await vscode.window.showSaveDialog({ defaultUri: base,
        filters: m.format === 'png' ? { 'PNG image': ['png'] } : { 'SVG image': ['svg'] } });
      if (!target) return;
      const bytes = typeof m.base64 === 'string' ? Buffer.from(m.base64, 'base64') : Buffer.from(String(m.text ?? ''), 'utf8');
      await vscode.workspace.fs.writeFile(target, bytes);
      void vscode.window.setStatusBarMessage(`$(check) Agrippa: wrote ${target.fsPath}`, 4000);
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const s of this.subs) s.dispose();
  }
}
