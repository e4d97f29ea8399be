// Reacting to settings changes: a new interpreter restarts the server; a new profile or new
// bindings refresh the profile status item.
import * as vscode from 'vscode';

import { InterpreterSource } from './interpreter';

export interface ConfigHooks {
  log: vscode.OutputChannel;
  /** Where the interpreter of the running (or last started) server came from. */
  interpreterSource(): InterpreterSource | undefined;
  restartServer(): Promise<void>;
  refreshProfile(): void;
}

export function onConfigurationChanged(e: vscode.ConfigurationChangeEvent, hooks: ConfigHooks): void {
  if (
    e.affectsConfiguration('agrippa.server.python') ||
    (e.affectsConfiguration('python.defaultInterpreterPath') && hooks.interpreterSource() !== 'agrippa.server.python')
  ) {
    hooks.log.appendLine('interpreter setting changed: restarting the server');
    void hooks.restartServer();
  }
  if (e.affectsConfiguration('agrippa.profile') || e.affectsConfiguration('agrippa.bindings')) {
    // the client has sent workspace/didChangeConfiguration; ask the server again a bit later
    setTimeout(() => hooks.refreshProfile(), 300);
  }
}
