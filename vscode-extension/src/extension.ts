// VS Code client for the Agrippa language server (`python -m agrippa_lsp`, stdio).
import { execFile } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  BaseLanguageClient,
  CancellationTokenSource,
  ClientCapabilities,
  DynamicFeature,
  ExecuteCommandRequest,
  FeatureState,
  LanguageClient,
  LanguageClientOptions,
  ProgressToken,
  ServerOptions,
  State,
  StaticFeature,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';

import { closingTagFor } from './autoclose';
import { CLIENT_OWNED_SERVER_COMMANDS, COMMANDS, registerCommands, SERVER_COMMANDS } from './commands';
import { isAgrippaXml } from './detect';
import {
  checkServerInstalled,
  installCommand,
  resolveInterpreter,
  ResolvedInterpreter,
  Runner,
  serverCommand,
  ServerCheck,
  shellQuote,
} from './interpreter';
import { formatLoss, ProgressTracker, WorkDoneValue } from './progress';

const LANGUAGE_ID = 'agrippa';
const CONFIG = 'agrippa';

// Results of the server's commands. Failures come back as results with `error` (or, for
// compile, `path: null` and `errors`), and the server also shows them with window/showMessage.
interface CompileResult {
  path?: string | null;
  message?: string;
  error?: string;
  errors?: string[];
  weights?: string | null;
}
interface TrainResult {
  weights?: string | null;
  final_loss?: number | null;
  message?: string;
  error?: string;
  cancelled?: boolean;
}
interface ProfilesResult {
  profiles?: string[];
  active?: string | null;
}

// ---------------------------------------------------------------------------------------------
// Progress: the server creates `window/workDoneProgress` tokens itself. The built-in handling of
// vscode-languageclient only shows them in the status bar; this one routes the progress of a
// training run into the cancellable notification of "Agrippa: Compile and Train".

interface ProgressSink {
  onToken(token: ProgressToken): void;
  onValue(value: WorkDoneValue): void;
}

class ProgressRouter {
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

class AgrippaProgressFeature implements StaticFeature {
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

function isBuiltinProgressFeature(feature: StaticFeature | DynamicFeature<unknown>): boolean {
  if ((feature as { registrationType?: unknown }).registrationType !== undefined) return false;
  try {
    const state = feature.getState() as { kind?: string; id?: string };
    return state.kind === 'window' && state.id === WorkDoneProgressCreateRequest.method;
  } catch {
    return false;
  }
}

/**
 * A LanguageClient that (1) does not register client-side commands for the server commands
 * the extension owns (`agrippa.compile`, ...: registering a command twice throws) and (2)
 * replaces the built-in progress handling by AgrippaProgressFeature.
 */
class AgrippaLanguageClient extends LanguageClient {
  public registerFeature(feature: StaticFeature | DynamicFeature<any>): void {
    if (isBuiltinProgressFeature(feature)) return;
    const f = feature as any;
    if (f.registrationType?.method === ExecuteCommandRequest.method && typeof f.register === 'function') {
      const register = f.register.bind(f);
      f.register = (data: any) =>
        register({
          ...data,
          registerOptions: {
            ...data.registerOptions,
            commands: (data.registerOptions?.commands ?? []).filter((c: string) => !CLIENT_OWNED_SERVER_COMMANDS.has(c)),
          },
        });
    }
    super.registerFeature(feature);
  }
}

// ---------------------------------------------------------------------------------------------

const execRunner: Runner = (command, args) =>
  new Promise((resolve) => {
    execFile(command, args, { timeout: 60_000, windowsHide: true }, (err, _stdout, stderr) => {
      if (!err) return resolve({ code: 0, stderr: String(stderr) });
      const code = (err as NodeJS.ErrnoException & { code?: unknown }).code;
      if (typeof code === 'string') return resolve({ code: null, stderr: String(stderr), errorCode: code });
      resolve({ code: typeof code === 'number' ? code : null, stderr: String(stderr) });
    });
  });

function withTimeout<T>(p: Thenable<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    Promise.resolve(p).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function errorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

export interface AgrippaApi {
  /** The running language client, if any (for other extensions and tests). */
  client(): BaseLanguageClient | undefined;
  /** The interpreter the server was (or would be) started with. */
  interpreter(): ResolvedInterpreter | undefined;
}

class AgrippaExtension {
  private client: AgrippaLanguageClient | undefined;
  private starting: Promise<AgrippaLanguageClient | undefined> | undefined;
  private resolved: ResolvedInterpreter | undefined;
  private missingReported = false;
  private training = false;
  private readonly log: vscode.OutputChannel;
  private readonly serverOutput: vscode.OutputChannel;
  private readonly profileItem: vscode.StatusBarItem;
  private readonly serverStatus: vscode.LanguageStatusItem;
  private readonly router = new ProgressRouter(() => this.client);
  private readonly adoptedXml = new Set<string>();
  private pythonApiListener: vscode.Disposable | undefined;
  private profileRefresh = 0;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Agrippa');
    this.serverOutput = vscode.window.createOutputChannel('Agrippa Language Server');
    this.profileItem = vscode.window.createStatusBarItem('agrippa.profile', vscode.StatusBarAlignment.Right, 100);
    this.profileItem.name = 'Agrippa Bindings Profile';
    this.profileItem.command = COMMANDS.selectProfile;
    this.serverStatus = vscode.languages.createLanguageStatusItem('agrippa.server', { language: LANGUAGE_ID });
    this.serverStatus.name = 'Agrippa Language Server';
    this.serverStatus.text = 'Agrippa';
    this.serverStatus.command = { title: 'Restart', command: COMMANDS.restartServer };
    context.subscriptions.push(this.log, this.serverOutput, this.profileItem, this.serverStatus);
  }

  api(): AgrippaApi {
    return { client: () => this.client, interpreter: () => this.resolved };
  }

  activate(): void {
    const ctx = this.context;
    ctx.subscriptions.push(
      ...registerCommands(vscode.commands, {
        compile: (uri?: vscode.Uri) => this.compile(uri),
        train: (uri?: vscode.Uri) => this.train(uri),
        restartServer: () => this.restart(),
        selectProfile: (uri?: vscode.Uri) => this.selectProfile(uri),
      }),
      vscode.workspace.onDidOpenTextDocument((doc) => this.onOpen(doc)),
      vscode.workspace.onDidChangeTextDocument((e) => this.autoCloseTag(e)),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigChange(e)),
      vscode.window.onDidChangeActiveTextEditor(() => this.refreshProfile()),
    );
    for (const doc of vscode.workspace.textDocuments) this.onOpen(doc);
    this.refreshProfile();
  }

  async dispose(): Promise<void> {
    this.pythonApiListener?.dispose();
    await this.stopClient();
  }

  // -- documents --------------------------------------------------------------------------------
  private onOpen(doc: vscode.TextDocument): void {
    if (doc.languageId === LANGUAGE_ID) {
      void this.ensureClient();
      return;
    }
    if (doc.languageId === 'xml' && vscode.workspace.getConfiguration(CONFIG).get<boolean>('detectXmlModels', true)) {
      const key = doc.uri.toString();
      // adopt once: when the user switches the language back to XML, leave it
      if (!this.adoptedXml.has(key) && isAgrippaXml(doc.getText())) {
        this.adoptedXml.add(key);
        void vscode.languages.setTextDocumentLanguage(doc, LANGUAGE_ID).then(() => this.refreshProfile());
      }
    }
  }

  private autoCloseTag(e: vscode.TextDocumentChangeEvent): void {
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

  private onConfigChange(e: vscode.ConfigurationChangeEvent): void {
    if (
      e.affectsConfiguration('agrippa.server.python') ||
      (e.affectsConfiguration('python.defaultInterpreterPath') && this.resolved?.source !== 'agrippa.server.python')
    ) {
      this.log.appendLine('interpreter setting changed: restarting the server');
      void this.restart();
    }
    if (e.affectsConfiguration('agrippa.profile') || e.affectsConfiguration('agrippa.bindings')) {
      // the client has sent workspace/didChangeConfiguration; ask the server again a bit later
      setTimeout(() => this.refreshProfile(), 300);
    }
  }

  // -- server lifecycle ---------------------------------------------------------------------------
  private firstFolder(): vscode.WorkspaceFolder | undefined {
    const uri = vscode.window.activeTextEditor?.document.uri;
    return (uri && vscode.workspace.getWorkspaceFolder(uri)) || vscode.workspace.workspaceFolders?.[0];
  }

  private pythonExtensionSource(resource?: vscode.Uri): (() => Promise<string | undefined>) | undefined {
    const ext = vscode.extensions.getExtension('ms-python.python');
    if (!ext) return undefined;
    return async () => {
      const api: any = ext.isActive ? ext.exports : await withTimeout(ext.activate(), 15_000);
      if (!api) return undefined;
      if (!this.pythonApiListener && api.environments?.onDidChangeActiveEnvironmentPath) {
        this.pythonApiListener = api.environments.onDidChangeActiveEnvironmentPath(() => {
          if (this.resolved?.source === 'python-extension' || this.resolved?.source === 'fallback') {
            this.log.appendLine('Python extension changed the interpreter: restarting the server');
            void this.restart();
          }
        });
      }
      const env = api.environments?.getActiveEnvironmentPath?.(resource);
      if (env?.path) return env.path as string;
      const details = api.settings?.getExecutionDetails?.(resource);
      return details?.execCommand?.[0];
    };
  }

  private async resolvePython(): Promise<ResolvedInterpreter> {
    const folder = this.firstFolder();
    const cfg = vscode.workspace.getConfiguration(CONFIG, folder?.uri);
    const pyCfg = vscode.workspace.getConfiguration('python', folder?.uri).inspect<string>('defaultInterpreterPath');
    return resolveInterpreter({
      configured: cfg.get<string>('server.python'),
      pythonExtension: this.pythonExtensionSource(folder?.uri),
      defaultInterpreterPath: pyCfg?.workspaceFolderValue ?? pyCfg?.workspaceValue ?? pyCfg?.globalValue,
      workspaceFolder: folder?.uri.fsPath,
      homeDir: os.homedir(),
      env: process.env,
    });
  }

  private ensureClient(): Promise<AgrippaLanguageClient | undefined> {
    if (this.client && this.client.state !== State.Stopped) return Promise.resolve(this.client);
    if (!this.starting) {
      this.starting = this.startClient().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  private async startClient(): Promise<AgrippaLanguageClient | undefined> {
    const resolved = await this.resolvePython();
    this.resolved = resolved;
    this.log.appendLine(`interpreter: ${resolved.python} (from ${resolved.source})`);
    const check = await checkServerInstalled(resolved.python, execRunner);
    if (check.status !== 'ok') {
      this.log.appendLine(`server check failed: ${check.status}: ${check.detail}`);
      this.setServerStatus('missing', resolved.python);
      void this.reportServerMissing(resolved.python, check);
      return undefined;
    }
    this.missingReported = false;
    const { command, args } = serverCommand(resolved.python);
    const folder = this.firstFolder();
    const serverOptions: ServerOptions = {
      command,
      args,
      options: { cwd: folder?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: LANGUAGE_ID },
        { scheme: 'untitled', language: LANGUAGE_ID },
      ],
      synchronize: { configurationSection: CONFIG },
      outputChannel: this.serverOutput,
      traceOutputChannel: this.serverOutput,
    };
    const client = new AgrippaLanguageClient('agrippa', 'Agrippa Language Server', serverOptions, clientOptions);
    client.registerFeature(new AgrippaProgressFeature(client, this.router));
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.setServerStatus('running', resolved.python);
      else if (e.newState === State.Stopped) this.setServerStatus('stopped', resolved.python);
    });
    this.client = client;
    this.setServerStatus('starting', resolved.python);
    this.log.appendLine(`starting: ${[command, ...args].map((a) => shellQuote(a)).join(' ')}`);
    try {
      await client.start();
    } catch (e) {
      this.log.appendLine(`server failed to start: ${errorMessage(e)}`);
      this.setServerStatus('stopped', resolved.python);
      void vscode.window
        .showErrorMessage(`Agrippa: the language server failed to start: ${errorMessage(e)}`, 'Show Output', 'Restart')
        .then((choice) => {
          if (choice === 'Show Output') this.serverOutput.show();
          if (choice === 'Restart') void this.restart();
        });
      return undefined;
    }
    this.refreshProfile();
    return client;
  }

  private setServerStatus(state: 'starting' | 'running' | 'stopped' | 'missing', python: string): void {
    const item = this.serverStatus;
    item.busy = state === 'starting';
    item.severity = state === 'missing' || state === 'stopped' ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
    item.text = { starting: 'Agrippa: starting', running: 'Agrippa', stopped: 'Agrippa: stopped', missing: 'Agrippa: server not installed' }[state];
    item.detail = python;
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (e) {
        this.log.appendLine(`stop: ${errorMessage(e)}`);
      }
      await client.dispose().catch(() => undefined);
    }
  }

  async restart(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    await this.stopClient();
    this.missingReported = false;
    const client = await this.ensureClient();
    if (client) vscode.window.setStatusBarMessage('$(check) Agrippa: language server restarted', 4000);
  }

  private async reportServerMissing(python: string, check: Exclude<ServerCheck, { status: 'ok' }>): Promise<void> {
    if (this.missingReported) return;
    this.missingReported = true;
    const select = 'Select Interpreter';
    const install = 'Install';
    let choice: string | undefined;
    if (check.status === 'no-python') {
      choice = await vscode.window.showWarningMessage(
        `Agrippa: the Python interpreter "${python}" was not found. Choose the interpreter that has Agrippa installed (setting agrippa.server.python).`,
        select,
      );
    } else {
      choice = await vscode.window.showWarningMessage(
        `Agrippa: the language server is not installed for ${python} (${check.detail}). Install it with "${python} -m pip install agrippa"?`,
        install,
        select,
      );
    }
    if (choice === install) await this.runInstall(python);
    if (choice === select) await this.selectInterpreter();
  }

  private async selectInterpreter(): Promise<void> {
    if (vscode.extensions.getExtension('ms-python.python')) {
      await vscode.commands.executeCommand('python.setInterpreter');
      await this.restart();
    } else {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'agrippa.server.python');
    }
  }

  private async runInstall(python: string): Promise<void> {
    const { command, args } = installCommand(python);
    const terminal = vscode.window.createTerminal({ name: 'Agrippa: install', shellPath: command, shellArgs: args });
    terminal.show();
    this.log.appendLine(`install: ${[command, ...args].map((a) => shellQuote(a)).join(' ')}`);
    const deadline = Date.now() + 30 * 60_000;
    while (terminal.exitStatus === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
    }
    const code = terminal.exitStatus?.code;
    if (code === 0) {
      vscode.window.setStatusBarMessage('$(check) Agrippa: installed, starting the language server', 5000);
      await this.restart();
    } else {
      void vscode.window.showErrorMessage(`Agrippa: "pip install agrippa" failed (exit code ${code ?? 'unknown'}). See the terminal.`);
    }
  }

  // -- commands -------------------------------------------------------------------------------------
  private targetUri(arg?: unknown): vscode.Uri | undefined {
    if (arg instanceof vscode.Uri) return arg;
    const active = vscode.window.activeTextEditor?.document;
    if (active?.languageId === LANGUAGE_ID) return active.uri;
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.languageId === LANGUAGE_ID);
    if (visible) return visible.document.uri;
    void vscode.window.showErrorMessage('Agrippa: open an Agrippa model (.agr) first.');
    return undefined;
  }

  private async readyClient(): Promise<AgrippaLanguageClient | undefined> {
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

  private executeOnServer<T>(client: BaseLanguageClient, command: string, args: unknown[], token?: vscode.CancellationToken): Promise<T> {
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token) as Promise<T>;
  }

  async compile(arg?: unknown): Promise<CompileResult | undefined> {
    const uri = this.targetUri(arg);
    if (!uri) return undefined;
    const client = await this.readyClient();
    if (!client) return undefined;
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Agrippa: compiling ${path.basename(uri.fsPath)}` },
        async (progress) => {
          // the server's "Compiling to ONNX" progress goes into this one
          const claim = this.router.claim({
            onToken: () => undefined,
            onValue: (v) => v.message && progress.report({ message: v.message }),
          });
          try {
            return await this.executeOnServer<CompileResult | null>(client, SERVER_COMMANDS.compile, [uri.toString()]);
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
    const uri = this.targetUri(arg);
    if (!uri) return undefined;
    if (this.training) {
      void vscode.window.showInformationMessage('Agrippa: a training run is already in progress.');
      return undefined;
    }
    const client = await this.readyClient();
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
          const claim = this.router.claim({
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
            const result = await this.executeOnServer<TrainResult | null>(client, SERVER_COMMANDS.train, [uri.toString()], requestCancel.token);
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

  async selectProfile(arg?: unknown): Promise<string | null | undefined> {
    const uri = this.targetUri(arg);
    if (!uri) return undefined;
    const client = await this.readyClient();
    if (!client) return undefined;
    let listed: ProfilesResult | null;
    try {
      listed = await this.executeOnServer<ProfilesResult | null>(client, SERVER_COMMANDS.listProfiles, [uri.toString()]);
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
      const res = await this.executeOnServer<{ active?: string | null; error?: string } | null>(
        client,
        SERVER_COMMANDS.selectProfile,
        [uri.toString(), picked.profile],
      );
      if (res?.error) return undefined; // the server has shown the error
      const active = res?.active === undefined ? picked.profile : res.active;
      // remember the choice: the server reads `agrippa.profile` through workspace/configuration
      const target = vscode.workspace.getWorkspaceFolder(uri) ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await vscode.workspace.getConfiguration(CONFIG, uri).update('profile', active, target);
      this.showProfile(active, profiles);
      return active;
    } catch (e) {
      void vscode.window.showErrorMessage(`Agrippa: could not select profile "${picked.profile}": ${errorMessage(e)}`);
      return undefined;
    }
  }

  // -- status bar: the active bindings profile -------------------------------------------------------
  private showProfile(active: string | null | undefined, profiles?: string[]): void {
    this.profileItem.text = `$(symbol-parameter) ${active ? `profile: ${active}` : 'no profile'}`;
    const list = profiles && profiles.length ? `\n\nProfiles: ${profiles.join(', ')}` : '';
    this.profileItem.tooltip = `Agrippa bindings profile: ${active ?? 'none'}${list}\n\nClick to change.`;
    this.profileItem.show();
  }

  private refreshProfile(): void {
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || doc.languageId !== LANGUAGE_ID) {
      this.profileItem.hide();
      return;
    }
    const fromSetting = vscode.workspace.getConfiguration(CONFIG, doc.uri).get<string | null>('profile') ?? null;
    const client = this.client;
    if (!client || client.state !== State.Running) {
      this.showProfile(fromSetting);
      return;
    }
    const seq = ++this.profileRefresh;
    this.executeOnServer<ProfilesResult | null>(client, SERVER_COMMANDS.listProfiles, [doc.uri.toString()]).then(
      (res) => {
        if (seq === this.profileRefresh) this.showProfile(res?.active ?? fromSetting, res?.profiles);
      },
      () => {
        if (seq === this.profileRefresh) this.showProfile(fromSetting);
      },
    );
  }
}

let extension: AgrippaExtension | undefined;

export function activate(context: vscode.ExtensionContext): AgrippaApi {
  extension = new AgrippaExtension(context);
  extension.activate();
  return extension.api();
}

export async function deactivate(): Promise<void> {
  await extension?.dispose();
  extension = undefined;
}
