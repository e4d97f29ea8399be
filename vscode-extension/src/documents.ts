// Documents: opening `.xml` models as Agrippa, auto-closing tags as they are typed, and the
// model a command applies to.
import * as vscode from 'vscode';

import { closingTagFor } from './autoclose';
import { CONFIG, LANGUAGE_ID } from './constants';
import { isAgrippaXml } from './detect';

export interface DocumentHooks {
  /** An Agrippa document is open: the server should run. */
  ensureServer(): void;
  /** A document became Agrippa: the profile status item should follow. */
  languageChanged(): void;
}

/** Starts the server for Agrippa documents and adopts `.xml` files whose root is `<model>`. */
export class DocumentWatcher {
  private readonly adoptedXml = new Set<string>();

  constructor(private readonly hooks: DocumentHooks) {}

  onOpen(doc: vscode.TextDocument): void {
    if (doc.languageId === LANGUAGE_ID) {
      this.hooks.ensureServer();
      return;
    }
    if (doc.languageId === 'xml' && vscode.workspace.getConfiguration(CONFIG).get<boolean>('detectXmlModels', true)) {
      const key = doc.uri.toString();
      // adopt once: when the user switches the language back to XML, leave it
      if (!this.adoptedXml.has(key) && isAgrippaXml(doc.getText())) {
        this.adoptedXml.add(key);
        void vscode.languages.setTextDocumentLanguage(doc, LANGUAGE_ID).then(() => this.hooks.languageChanged());
      }
    }
  }
}

/** After the `>` of a start tag is typed, inserts the end tag (`agrippa.autoCloseTags`). */
export function autoCloseTag(e: vscode.TextDocumentChangeEvent): void {
  if (e.document.languageId !== LANGUAGE_ID || e.contentChanges.length !== 1) return;
  if (e.reason !== undefined) return; // undo / redo
  const change = e.contentChanges[0];
  if (change.text !== '>' || change.rangeLength !== 0) return;
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document !== e.document || editor.selections.length !== 1) return;
  if (!vscode.workspace.getConfiguration(CONFIG, e.document).get<boolean>('autoCloseTags', true)) return;
  const pos = change.range.start.translate(0, 1);
  const before = e.document.getText(new vscode.Range(Math.max(0, pos.line - 30), 0, pos.line, pos.character));
  const after = e.document.lineAt(pos.line).text.slice(pos.character);
  const close = closingTagFor(before, after);
  if (!close) return;
  void editor.insertSnippet(new vscode.SnippetString('$0' + close.replace(/[$}\\]/g, '\\$&')), pos, {
    undoStopBefore: false,
    undoStopAfter: false,
  });
}

/**
 * The model a command applies to: the Uri it was given (explorer, editor title), else the
 * active Agrippa editor, else a visible one. Tells the user when there is none.
 */
export function targetUri(arg?: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg.startsWith('file:')) return vscode.Uri.parse(arg); // from a server lens or action
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === LANGUAGE_ID) return active.uri;
  const visible = vscode.window.visibleTextEditors.find((e) => e.document.languageId === LANGUAGE_ID);
  if (visible) return visible.document.uri;
  void vscode.window.showErrorMessage('Agrippa: open an Agrippa model (.agr) first.');
  return undefined;
}
