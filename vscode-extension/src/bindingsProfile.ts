// The bindings profile (from agrippa.toml): its status bar item and the command
// "Agrippa: Select Bindings Profile".
import * as vscode from 'vscode';
import { State } from 'vscode-languageclient/node';

import { COMMANDS, SERVER_COMMANDS } from './commands';
import { CONFIG, LANGUAGE_ID } from './constants';
import { targetUri } from './documents';
import { executeOnServer } from './languageClient';
import { ServerManager } from './serverLifecycle';
import { errorMessage } from './util';

/** Result of the server's `agrippa.listProfiles`. */
export interface ProfilesResult {
  profiles?: string[];
  active?: string | null;
}

/** The status bar item that shows the active profile (click: select another). */
export function createProfileItem(): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem('agrippa.profile', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Agrippa Bindings Profile';
  item.command = COMMANDS.selectProfile;
  return item;
}

export class BindingsProfile {
  private profileRefresh = 0;

  constructor(private readonly item: vscode.StatusBarItem, private readonly server: ServerManager) {}

  async select(arg?: unknown): Promise<string | null | undefined> {
    const uri = targetUri(arg);
    if (!uri) return undefined;
    const client = await this.server.readyClient();
    if (!client) return undefined;
    let listed: ProfilesResult | null;
    try {
      listed = await executeOnServer<ProfilesResult | null>(client, SERVER_COMMANDS.listProfiles, [uri.toString()]);
    } catch (e) {
      void vscode.window.showErrorMessage(`Agrippa: could not list the bindings profiles: ${errorMessage(e)}`);
      return undefined;
    }
    const profiles = listed?.profiles ?? [];
    if (profiles.length === 0) {
      void vscode.window.showInformationMessage('Agrippa: no bindings profiles are defined (agrippa.toml).');
      return undefined;
    }
    type Item = vscode.QuickPickItem & { profile: string | null };
    const items: Item[] = profiles.map((p) => ({ label: p, profile: p, description: p === listed?.active ? '(active)' : undefined }));
    items.push({ label: '$(circle-slash) No profile', profile: null, description: 'only [bindings] of agrippa.toml' });
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Agrippa: Select Bindings Profile',
      placeHolder: `active: ${listed?.active ?? 'none'}`,
    });
    if (!picked) return undefined;
    try {
      const res = await executeOnServer<{ active?: string | null; error?: string } | null>(
        client,
        SERVER_COMMANDS.selectProfile,
        [uri.toString(), picked.profile],
      );
      if (res?.error) return undefined; // the server has shown the error
      const active = res?.active === undefined ? picked.profile : res.active;
      // remember the choice: the server reads `agrippa.profile` through workspace/configuration
      const target = vscode.workspace.getWorkspaceFolder(uri) ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await vscode.workspace.getConfiguration(CONFIG, uri).update('profile', active, target);
      this.show(active, profiles);
      return active;
    } catch (e) {
      void vscode.window.showErrorMessage(`Agrippa: could not select profile "${picked.profile}": ${errorMessage(e)}`);
      return undefined;
    }
  }

  /** Updates the item for the active editor (asks the server when it runs; hidden for other languages). */
  refresh(): void {
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || doc.languageId !== LANGUAGE_ID) {
      this.item.hide();
      return;
    }
    const fromSetting = vscode.workspace.getConfiguration(CONFIG, doc.uri).get<string | null>('profile') ?? null;
    const client = this.server.client;
    if (!client || client.state !== State.Running) {
      this.show(fromSetting);
      return;
    }
    const seq = ++this.profileRefresh;
    executeOnServer<ProfilesResult | null>(client, SERVER_COMMANDS.listProfiles, [doc.uri.toString()]).then(
      (res) => {
        if (seq === this.profileRefresh) this.show(res?.active ?? fromSetting, res?.profiles);
      },
      () => {
        if (seq === this.profileRefresh) this.show(fromSetting);
      },
    );
  }

  private show(active: string | null | undefined, profiles?: string[]): void {
    this.item.text = `$(symbol-parameter) ${active ? `profile: ${active}` : 'no profile'}`;
    const list = profiles && profiles.length ? `\n\nProfiles: ${profiles.join(', ')}` : '';
    this.item.tooltip = `Agrippa bindings profile: ${active ?? 'none'}${list}\n\nClick to change.`;
    this.item.show();
  }
}
