// "Agrippa: Show Expanded Model": a read-only virtual document (scheme `agrippa-expanded`) with
// the flat model after rep, stretch, sourced blocks and expose, under the ONNX names. The text
// and its links back to the markup come from the server's `agrippa/expandedModel` request;
// go-to-definition and document links on the virtual document use those links. The server
// offers the command as a code action on rep/stretch/sourced block tags.
import * as vscode from 'vscode';

export const EXPANDED_SCHEME = 'agrippa-expanded';
export const EXPANDED_REQUEST = 'agrippa/expandedModel';

interface JsonRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}
interface ExpandedLink {
  range: JsonRange;
  targetUri: string;
  targetRange: JsonRange;
}
export interface ExpandedModel {
  uri: string | null;
  text: string | null;
  links: ExpandedLink[];
}
interface ExpandedClient {
  sendRequest<R>(method: string, params: unknown): Promise<R>;
}

const toRange = (r: JsonRange) => new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);

/** The virtual document's URI for a model file: the same path under the scheme. */
export function expandedUri(source: vscode.Uri): vscode.Uri {
  return source.with({ scheme: EXPANDED_SCHEME });
}

/** The link of `links` covering `pos`, if any. */
export function linkAt(links: ExpandedLink[], line: number, character: number): ExpandedLink | undefined {
  return links.find((k) => {
    const { start, end } = k.range;
    const after = line > start.line || (line === start.line && character >= start.character);
    const before = line < end.line || (line === end.line && character <= end.character);
    return after && before;
  });
}

export class ExpandedViews
  implements vscode.TextDocumentContentProvider, vscode.DefinitionProvider, vscode.DocumentLinkProvider, vscode.Disposable
{
  private readonly models = new Map<string, ExpandedModel>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly client: () => Promise<ExpandedClient | undefined>, private readonly log: vscode.OutputChannel) {
    const selector = { scheme: EXPANDED_SCHEME };
    this.subscriptions = [
      vscode.workspace.registerTextDocumentContentProvider(EXPANDED_SCHEME, this),
      vscode.languages.registerDefinitionProvider(selector, this),
      vscode.languages.registerDocumentLinkProvider(selector, this),
      vscode.workspace.onDidSaveTextDocument((doc) => this.refresh(doc.uri)),
      this.changed,
    ];
  }

  /** Open (or refresh) the expanded model of the model file `source`. */
  async showFor(source: vscode.Uri | undefined): Promise<void> {
    if (!source) return;
    const uri = expandedUri(source);
    await this.fetch(uri);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: false });
  }

  private async fetch(uri: vscode.Uri): Promise<ExpandedModel | undefined> {
    const client = await this.client();
    if (!client) return undefined;
    try {
      const source = uri.with({ scheme: 'file' }).toString();
      const got = await client.sendRequest<ExpandedModel>(EXPANDED_REQUEST, { uri: source });
      this.models.set(uri.toString(), got);
      return got;
    } catch (e) {
      this.log.appendLine(`expanded model failed: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  private refresh(saved: vscode.Uri): void {
    const uri = expandedUri(saved);
    if (this.models.has(uri.toString())) void this.fetch(uri).then(() => this.changed.fire(uri));
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const got = this.models.get(uri.toString()) ?? (await this.fetch(uri));
    return got?.text ?? '<!-- Agrippa: no expanded model (is the language server running?) -->\n';
  }

  provideDefinition(doc: vscode.TextDocument, pos: vscode.Position): vscode.Location | undefined {
    const link = linkAt(this.models.get(doc.uri.toString())?.links ?? [], pos.line, pos.character);
    return link ? new vscode.Location(vscode.Uri.parse(link.targetUri), toRange(link.targetRange)) : undefined;
  }

  provideDocumentLinks(doc: vscode.TextDocument): vscode.DocumentLink[] {
    return (this.models.get(doc.uri.toString())?.links ?? []).map((k) => {
      const start = k.targetRange.start;
      const target = vscode.Uri.parse(k.targetUri).with({ fragment: `L${start.line + 1},${start.character + 1}` });
      const link = new vscode.DocumentLink(toRange(k.range), target);
      link.tooltip = 'Go to the markup';
      return link;
    });
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
