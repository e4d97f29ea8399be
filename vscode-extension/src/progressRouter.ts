// Progress: the server creates `window/workDoneProgress` tokens itself. The built-in handling of
// vscode-languageclient only shows them in the status bar; this one routes the progress of a
// training run into the cancellable notification of "Agrippa: Compile and Train".
import * as vscode from 'vscode';
import {
  BaseLanguageClient,
  ClientCapabilities,
  DynamicFeature,
  FeatureState,
  ProgressToken,
  StaticFeature,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';

import { ProgressTracker, WorkDoneValue } from './progress';

export interface ProgressSink {
  onToken(token: ProgressToken): void;
  onValue(value: WorkDoneValue): void;
}

export class ProgressRouter {
  private waiting: ProgressSink[] = [];
  private subscriptions = new Map<ProgressToken, vscode.Disposable>();

  constructor(private readonly client: () => BaseLanguageClient | undefined) {}

  /** The next server-created progress goes to `sink` (until released). */
  claim(sink: ProgressSink): vscode.Disposable {
    this.waiting.push(sink);
    return new vscode.Disposable(() => {
      this.waiting = this.waiting.filter((s) => s !== sink);
    });
  }

  created(client: BaseLanguageClient, token: ProgressToken): void {
    const sink = this.waiting.shift();
    if (sink) {
      sink.onToken(token);
      const sub = client.onProgress(WorkDoneProgress.type, token, (value) => {
        sink.onValue(value as WorkDoneValue);
        if (value.kind === 'end') this.drop(token);
      });
      this.subscriptions.set(token, sub);
      return;
    }
    // progress nobody waits for (e.g. a compile started by the server): a window progress
    let resolve: (() => void) | undefined;
    let progress: vscode.Progress<{ message?: string; increment?: number }> | undefined;
    const tracker = new ProgressTracker();
    const pending: WorkDoneValue[] = [];
    const sub = client.onProgress(WorkDoneProgress.type, token, (v) => {
      const value = v as WorkDoneValue;
      if (value.kind === 'begin') {
        void vscode.window.withProgress(
          { location: vscode.ProgressLocation.Window, title: value.title ?? 'Agrippa', cancellable: !!value.cancellable },
          (p, cancel) => {
            progress = p;
            cancel.onCancellationRequested(() => {
              void this.client()?.sendNotification(WorkDoneProgressCancelNotification.type, { token });
            });
            for (const queued of pending.splice(0)) {
              const r = tracker.update(queued);
              if (r) p.report(r);
            }
            return new Promise<void>((res) => (resolve = res));
          },
        );
      }
      if (value.kind === 'end') {
        resolve?.();
        this.drop(token);
        return;
      }
      if (progress) {
        const r = tracker.update(value);
        if (r) progress.report(r);
      } else {
        pending.push(value);
      }
    });
    this.subscriptions.set(token, sub);
  }

  private drop(token: ProgressToken): void {
    this.subscriptions.get(token)?.dispose();
    this.subscriptions.delete(token);
  }

  clear(): void {
    for (const sub of this.subscriptions.values()) sub.dispose();
    this.subscriptions.clear();
  }
}

/** Answers the server's `window/workDoneProgress/create` by handing the token to the router. */
export class AgrippaProgressFeature implements StaticFeature {
  constructor(private readonly client: BaseLanguageClient, private readonly router: ProgressRouter) {}
  getState(): FeatureState {
    return { kind: 'static' };
  }
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.window = capabilities.window ?? {};
    capabilities.window.workDoneProgress = true;
  }
  initialize(): void {
    this.client.onRequest(WorkDoneProgressCreateRequest.type, (params) => {
      this.router.created(this.client, params.token);
    });
  }
  clear(): void {
    this.router.clear();
  }
}

/** The progress feature of vscode-languageclient that AgrippaProgressFeature replaces. */
export function isBuiltinProgressFeature(feature: StaticFeature | DynamicFeature<unknown>): boolean {
  if ((feature as { registrationType?: unknown }).registrationType !== undefined) return false;
  try {
    const state = feature.getState() as { kind?: string; id?: string };
    return state.kind === 'window' && state.id === WorkDoneProgressCreateRequest.method;
  } catch {
    return false;
  }
}
