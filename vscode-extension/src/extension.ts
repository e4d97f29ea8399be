// VS Code client for the Agrippa language server (`python -m agrippa_lsp`, stdio):
// activate() wires the modules together.
//   serverLifecycle.ts   start / stop / restart the server (languageClient.ts, progressRouter.ts,
//                        pythonInterpreter.ts, serverInstall.ts, serverStatus.ts)
//   compileAndTrain.ts   the compile and train commands
//   bindingsProfile.ts   the profile status item and the select-profile command
//   documents.ts         XML model adoption, auto-closing tags, the target model of a command
//   configWatcher.ts     settings changes
//   tasks.ts             the `agrippa` task type (check, compile, train) and its problem matcher
import * as vscode from 'vscode';
import { BaseLanguageClient } from 'vscode-languageclient/node';

import { BindingsProfile, createProfileItem } from './bindingsProfile';
import { registerCommands } from './commands';
import { CompileAndTrain } from './compileAndTrain';
import { onConfigurationChanged } from './configWatcher';
import { autoCloseTag, DocumentWatcher, targetUri } from './documents';
import { ExpandedViews } from './expandedView';
import { GraphViews } from './graphView';
import { ResolvedInterpreter } from './interpreter';
import { ServerManager } from './serverLifecycle';
import { ServerStatus } from './serverStatus';
import { registerTaskProvider } from './tasks';

export interface AgrippaApi {
  /** The running language client, if any (for other extensions and tests). */
  client(): BaseLanguageClient | undefined;
  /** The interpreter the server was (or would be) started with. */
  interpreter(): ResolvedInterpreter | undefined;
}

let server: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): AgrippaApi {
  const log = vscode.window.createOutputChannel('Agrippa');
  const serverOutput = vscode.window.createOutputChannel('Agrippa Language Server');
  const profileItem = createProfileItem();
  const serverStatus = new ServerStatus();
  context.subscriptions.push(log, serverOutput, profileItem, serverStatus);

  const srv = new ServerManager({ log, serverOutput, status: serverStatus, onStarted: () => profile.refresh() });
  const profile = new BindingsProfile(profileItem, srv);
  const commands = new CompileAndTrain(srv, log);
  const documents = new DocumentWatcher({
    ensureServer: () => void srv.ensureClient(),
    languageChanged: () => profile.refresh(),
  });
  server = srv;
  const graphs = new GraphViews(context.extensionUri, () => srv.ensureClient(), log);
  context.subscriptions.push(graphs);
  const expanded = new ExpandedViews(() => srv.readyClient(), log); // expandedView.ts: the expanded model
  context.subscriptions.push(expanded);
  context.subscriptions.push(registerTaskProvider(() => srv.interpreter())); // tasks.ts: check, compile, train

  context.subscriptions.push(
    ...registerCommands(vscode.commands, {
      compile: (uri?: vscode.Uri) => commands.compile(uri),
      train: (uri?: vscode.Uri) => commands.train(uri),
      restartServer: () => srv.restart(),
      selectProfile: (uri?: vscode.Uri) => profile.select(uri),
      showGraph: (uri?: vscode.Uri) => graphs.showFor(targetUri(uri)),
      showExpanded: (uri?: vscode.Uri | string) => expanded.showFor(targetUri(uri)),
    }),
    vscode.workspace.onDidOpenTextDocument((doc) => documents.onOpen(doc)),
    vscode.workspace.onDidChangeTextDocument((e) => autoCloseTag(e)),
    vscode.workspace.onDidChangeConfiguration((e) =>
      onConfigurationChanged(e, {
        log,
        interpreterSource: () => srv.resolved?.source,
        restartServer: () => srv.restart(),
        refreshProfile: () => profile.refresh(),
      }),
    ),
    vscode.window.onDidChangeActiveTextEditor(() => profile.refresh()),
  );
  for (const doc of vscode.workspace.textDocuments) documents.onOpen(doc);
  profile.refresh();
  return { client: () => srv.client, interpreter: () => srv.resolved };
}

export async function deactivate(): Promise<void> {
  await server?.dispose();
  server = undefined;
}
