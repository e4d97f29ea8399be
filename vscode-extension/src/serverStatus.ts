// The language status item of the server ("Agrippa" next to the language mode; click: restart).
import * as vscode from 'vscode';

import { COMMANDS } from './commands';
import { LANGUAGE_ID } from './constants';

export type ServerState = 'starting' | 'running' | 'stopped' | 'missing';

const TEXT: Record<ServerState, string> = {
  starting: 'Agrippa: starting',
  running: 'Agrippa',
  stopped: 'Agrippa: stopped',
  missing: 'Agrippa: server not installed',
};

export class ServerStatus implements vscode.Disposable {
  private readonly item: vscode.LanguageStatusItem;

  constructor() {
    this.item = vscode.languages.createLanguageStatusItem('agrippa.server', { language: LANGUAGE_ID });
    this.item.name = 'Agrippa Language Server';
    this.item.text = 'Agrippa';
    this.item.command = { title: 'Restart', command: COMMANDS.restartServer };
  }

  set(state: ServerState, python: string): void {
    const item = this.item;
    item.busy = state === 'starting';
    item.severity = state === 'missing' || state === 'stopped' ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
    item.text = TEXT[state];
    item.detail = python;
  }

  dispose(): void {
    this.item.dispose();
  }
}
