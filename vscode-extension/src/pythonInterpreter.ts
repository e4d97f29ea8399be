// VS Code side of interpreter.ts: reads the settings and asks the Python extension for the
// interpreter that runs the server, and runs the `import agrippa_lsp` check as a process.
import { execFile } from 'child_process';
import * as os from 'os';
import * as vscode from 'vscode';

import { CONFIG } from './constants';
import { InterpreterSource, resolveInterpreter, ResolvedInterpreter, Runner } from './interpreter';
import { withTimeout } from './util';

/** Runs a process for checkServerInstalled(). */
export const execRunner: Runner = (command, args) =>
  new Promise((resolve) => {
    execFile(command, args, { timeout: 60_000, windowsHide: true }, (err, _stdout, stderr) => {
      if (!err) return resolve({ code: 0, stderr: String(stderr) });
      const code = (err as NodeJS.ErrnoException & { code?: unknown }).code;
      if (typeof code === 'string') return resolve({ code: null, stderr: String(stderr), errorCode: code });
      resolve({ code: typeof code === 'number' ? code : null, stderr: String(stderr) });
    });
  });

/** The workspace folder of the active editor, else the first workspace folder. */
export function firstFolder(): vscode.WorkspaceFolder | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  return (uri && vscode.workspace.getWorkspaceFolder(uri)) || vscode.workspace.workspaceFolders?.[0];
}

export interface InterpreterResolverHooks {
  log: vscode.OutputChannel;
  /** Where the interpreter of the running (or last started) server came from. */
  currentSource(): InterpreterSource | undefined;
  /** Restarts the server (the Python extension selected another interpreter). */
  restart(): Promise<void>;
}

export class PythonInterpreterResolver implements vscode.Disposable {
  private pythonApiListener: vscode.Disposable | undefined;

  constructor(private readonly hooks: InterpreterResolverHooks) {}

  /** The interpreter to start the server with (order: see resolveInterpreter). */
  resolve(): Promise<ResolvedInterpreter> {
    const folder = firstFolder();
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

  private pythonExtensionSource(resource?: vscode.Uri): (() => Promise<string | undefined>) | undefined {
    const ext = vscode.extensions.getExtension('ms-python.python');
    if (!ext) return undefined;
    return async () => {
      const api: any = ext.isActive ? ext.exports : await withTimeout(ext.activate(), 15_000);
      if (!api) return undefined;
      if (!this.pythonApiListener && api.environments?.onDidChangeActiveEnvironmentPath) {
        this.pythonApiListener = api.environments.onDidChangeActiveEnvironmentPath(() => {
          const source = this.hooks.currentSource();
          if (source === 'python-extension' || source === 'fallback') {
            this.hooks.log.appendLine('Python extension changed the interpreter: restarting the server');
            void this.hooks.restart();
          }
        });
      }
      const env = api.environments?.getActiveEnvironmentPath?.(resource);
      if (env?.path) return env.path as string;
      const details = api.settings?.getExecutionDetails?.(resource);
      return details?.execCommand?.[0];
    };
  }

  dispose(): void {
    this.pythonApiListener?.dispose();
  }
}
