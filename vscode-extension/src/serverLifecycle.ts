// Starting, stopping and restarting the language server (`<python> -m agrippa_lsp`, stdio).
import * as vscode from 'vscode';
import { LanguageClientOptions, ServerOptions, State } from 'vscode-languageclient/node';

import { CONFIG, DOCUMENT_SELECTOR } from './constants';
import { checkServerInstalled, ResolvedInterpreter, serverCommand, ServerCheck, shellQuote } from './interpreter';
import { AgrippaLanguageClient } from './languageClient';
import { AgrippaProgressFeature, ProgressRouter } from './progressRouter';
import { execRunner, firstFolder, PythonInterpreterResolver } from './pythonInterpreter';
import { offerServerFix } from './serverInstall';
import { ServerStatus } from './serverStatus';
import { errorMessage } from './util';

export interface ServerManagerOptions {
  /** The extension's log ("Agrippa" output). */
  log: vscode.OutputChannel;
  /** The server's output and LSP trace ("Agrippa Language Server" output). */
  serverOutput: vscode.OutputChannel;
  status: ServerStatus;
  /** Called each time the server has started. */
  onStarted(): void;
}

export class ServerManager {
  private current: AgrippaLanguageClient | undefined;
  private starting: Promise<AgrippaLanguageClient | undefined> | undefined;
  private resolvedInterpreter: ResolvedInterpreter | undefined;
  private missingReported = false;
  private readonly log: vscode.OutputChannel;
  private readonly interpreters: PythonInterpreterResolver;
  /** Routes the server's progress (see progressRouter.ts). */
  readonly router = new ProgressRouter(() => this.current);

  constructor(private readonly options: ServerManagerOptions) {
    this.log = options.log;
    this.interpreters = new PythonInterpreterResolver({
      log: options.log,
      currentSource: () => this.resolvedInterpreter?.source,
      restart: () => this.restart(),
    });
  }

  /** The language client, if one was started (running or not). */
  get client(): AgrippaLanguageClient | undefined {
    return this.current;
  }

  /** The interpreter the server was (or would be) started with. */
  get resolved(): ResolvedInterpreter | undefined {
    return this.resolvedInterpreter;
  }

  /** The interpreter of the running server, else the one it would start with (for tasks). */
  interpreter(): Promise<ResolvedInterpreter> {
    return this.resolvedInterpreter ? Promise.resolve(this.resolvedInterpreter) : this.interpreters.resolve();
  }

  /** The client, starting the server when there is none (or it stopped). */
  ensureClient(): Promise<AgrippaLanguageClient | undefined> {
    if (this.current && this.current.state !== State.Stopped) return Promise.resolve(this.current);
    if (!this.starting) {
      this.starting = this.startClient().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  /** The running client for a command; tells the user (once) when there is none. */
  async readyClient(): Promise<AgrippaLanguageClient | undefined> {
    const client = await this.ensureClient();
    if (!client || client.state !== State.Running) {
      if (this.missingReported || !client) {
        void vscode.window.showErrorMessage('Agrippa: the language server is not running.', 'Restart').then((c) => {
          if (c) void this.restart();
        });
      }
      return undefined;
    }
    return client;
  }

  async restart(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    await this.stopClient();
    this.missingReported = false;
    const client = await this.ensureClient();
    if (client) vscode.window.setStatusBarMessage('$(check) Agrippa: language server restarted', 4000);
  }

  async dispose(): Promise<void> {
    this.interpreters.dispose();
    await this.stopClient();
  }

  private async startClient(): Promise<AgrippaLanguageClient | undefined> {
    const resolved = await this.interpreters.resolve();
    this.resolvedInterpreter = resolved;
    this.log.appendLine(`interpreter: ${resolved.python} (from ${resolved.source})`);
    const check = await checkServerInstalled(resolved.python, execRunner);
    if (check.status !== 'ok') {
      this.log.appendLine(`server check failed: ${check.status}: ${check.detail}`);
      this.options.status.set('missing', resolved.python);
      void this.reportServerMissing(resolved.python, check);
      return undefined;
    }
    this.missingReported = false;
    const { command, args } = serverCommand(resolved.python);
    const folder = firstFolder();
    const serverOptions: ServerOptions = {
      command,
      args,
      options: { cwd: folder?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      synchronize: { configurationSection: CONFIG },
      // client-side commands the server may put in lenses and code actions (the graph view draws its own lens)
      initializationOptions: { clientCommands: ['agrippa.showExpanded'] },
      outputChannel: this.options.serverOutput,
      traceOutputChannel: this.options.serverOutput,
    };
    const client = new AgrippaLanguageClient('agrippa', 'Agrippa Language Server', serverOptions, clientOptions);
    client.registerFeature(new AgrippaProgressFeature(client, this.router));
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.options.status.set('running', resolved.python);
      else if (e.newState === State.Stopped) this.options.status.set('stopped', resolved.python);
    });
    this.current = client;
    this.options.status.set('starting', resolved.python);
    this.log.appendLine(`starting: ${[command, ...args].map((a) => shellQuote(a)).join(' ')}`);
    try {
      await client.start();
    } catch (e) {
      this.log.appendLine(`server failed to start: ${errorMessage(e)}`);
      this.options.status.set('stopped', resolved.python);
      void vscode.window
        .showErrorMessage(`Agrippa: the language server failed to start: ${errorMessage(e)}`, 'Show Output', 'Restart')
        .then((choice) => {
          if (choice === 'Show Output') this.options.serverOutput.show();
          if (choice === 'Restart') void this.restart();
        });
      return undefined;
    }
    this.options.onStarted();
    return client;
  }

  private async stopClient(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (e) {
        this.log.appendLine(`stop: ${errorMessage(e)}`);
      }
      await client.dispose().catch(() => undefined);
    }
  }

  private async reportServerMissing(python: string, check: Exclude<ServerCheck, { status: 'ok' }>): Promise<void> {
    if (this.missingReported) return;
    this.missingReported = true;
    await offerServerFix(python, check, { log: this.log, restart: () => this.restart() });
  }
}
