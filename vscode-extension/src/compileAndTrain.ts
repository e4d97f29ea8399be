// The commands "Agrippa: Compile to ONNX" and "Agrippa: Compile and Train": run the server's
// command with a progress display (training: a cancellable notification) and report the outcome.
import * as path from 'path';
import * as vscode from 'vscode';
import { CancellationTokenSource, ProgressToken, WorkDoneProgressCancelNotification } from 'vscode-languageclient/node';

import { SERVER_COMMANDS } from './commands';
import { targetUri } from './documents';
import { executeOnServer } from './languageClient';
import { formatLoss, ProgressTracker } from './progress';
import { ServerManager } from './serverLifecycle';
import { requireTrust } from './trust';
import { errorMessage } from './util';

// Results of the server's commands. Failures come back as results with `error` (or, for
// compile, `path: null` and `errors`), and the server also shows them with window/showMessage.
export interface CompileResult {
  path?: string | null;
  message?: string;
  error?: string;
  errors?: string[];
  weights?: string | null;
}
export interface TrainResult {
  weights?: string | null;
  final_loss?: number | null;
  message?: string;
  error?: string;
  cancelled?: boolean;
}

export class CompileAndTrain {
  private training = false;

  constructor(private readonly server: ServerManager, private readonly log: vscode.OutputChannel) {}

  async compile(arg?: unknown): Promise<CompileResult | undefined> {
    const uri = targetUri(arg);
    if (!uri) return undefined;
    const client = await this.server.readyClient();
    if (!client) return undefined;
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Agrippa: compiling ${path.basename(uri.fsPath)}` },
        async (progress) => {
          // the server's "Compiling to ONNX" progress goes into this one
          const claim = this.server.router.claim({
            onToken: () => undefined,
            onValue: (v) => v.message && progress.report({ message: v.message }),
          });
          try {
            return await executeOnServer<CompileResult | null>(client, SERVER_COMMANDS.compile, [uri.toString()]);
          } finally {
            claim.dispose();
          }
        },
      );
      this.log.appendLine(`compile ${uri.fsPath}: ${JSON.stringify(result)}`);
      // the server shows the outcome itself (window/showMessage): only the status bar here
      if (result?.path) {
        vscode.window.setStatusBarMessage(`$(check) Agrippa: wrote ${path.basename(result.path)}`, 10_000);
      } else {
        vscode.window.setStatusBarMessage('$(error) Agrippa: compile failed', 10_000);
        if (!result?.message && !result?.error) void vscode.window.showErrorMessage('Agrippa: compile failed.');
      }
      return result ?? undefined;
    } catch (e) {
      this.log.appendLine(`compile failed: ${errorMessage(e)}`);
      void vscode.window.showErrorMessage(`Agrippa: compile failed: ${errorMessage(e)}`);
      return undefined;
    }
  }

  async train(arg?: unknown): Promise<TrainResult | undefined> {
    const uri = targetUri(arg);
    if (!uri) return undefined;
    const ui = {
      isTrusted: vscode.workspace.isTrusted,
      warn: (message: string, ...items: string[]) => vscode.window.showWarningMessage(message, ...items),
      manageTrust: () => vscode.commands.executeCommand('workbench.trust.manage'),
    };
    if (!(await requireTrust(ui))) return undefined; // training runs the project's data.py
    if (this.training) {
      void vscode.window.showInformationMessage('Agrippa: a training run is already in progress.');
      return undefined;
    }
    const client = await this.server.readyClient();
    if (!client) return undefined;
    this.training = true;
    const name = path.basename(uri.fsPath);
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Agrippa: training ${name}`, cancellable: true },
        async (progress, cancel) => {
          const tracker = new ProgressTracker();
          const requestCancel = new CancellationTokenSource();
          let token: ProgressToken | undefined;
          let cancelled = false;
          const claim = this.server.router.claim({
            onToken: (t) => (token = t),
            onValue: (v) => {
              const r = tracker.update(v);
              if (r) progress.report(r);
              if (v.message) this.log.appendLine(`train: ${v.message}`);
            },
          });
          const onCancel = cancel.onCancellationRequested(() => {
            cancelled = true;
            this.log.appendLine('train: cancel requested');
            if (token !== undefined) {
              void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
              // give the server time to stop and answer with what it has; then stop waiting
              setTimeout(() => requestCancel.cancel(), 30_000);
            } else {
              requestCancel.cancel();
            }
          });
          progress.report({ message: 'compiling…' });
          try {
            const result = await executeOnServer<TrainResult | null>(client, SERVER_COMMANDS.train, [uri.toString()], requestCancel.token);
            this.log.appendLine(`train ${uri.fsPath}: ${JSON.stringify(result)}`);
            // the server shows the outcome itself (window/showMessage): only the status bar here
            if (result?.error) {
              vscode.window.setStatusBarMessage('$(error) Agrippa: training failed', 15_000);
            } else {
              const loss = result?.final_loss ?? tracker.lastLoss;
              const what = cancelled || result?.cancelled ? 'stopped' : 'done';
              const lossText = loss !== undefined && loss !== null ? `, loss ${formatLoss(loss)}` : '';
              vscode.window.setStatusBarMessage(`$(check) Agrippa: training ${what}${lossText}`, 15_000);
            }
            if (!result) void vscode.window.showErrorMessage('Agrippa: training failed (no result).');
            return result ?? undefined;
          } catch (e) {
            if (cancelled) {
              void vscode.window.showInformationMessage('Agrippa: training cancelled.');
            } else {
              this.log.appendLine(`train failed: ${errorMessage(e)}`);
              void vscode.window.showErrorMessage(`Agrippa: training failed: ${errorMessage(e)}`);
            }
            return undefined;
          } finally {
            claim.dispose();
            onCancel.dispose();
            requestCancel.dispose();
          }
        },
      );
    } finally {
      this.training = false;
    }
  }
}
