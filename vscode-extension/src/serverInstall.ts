// When the interpreter lacks the server: offer to install it (in a terminal) or to choose
// another interpreter.
import * as vscode from 'vscode';

import { installCommand, ServerCheck, shellQuote } from './interpreter';

export interface InstallHooks {
  log: vscode.OutputChannel;
  /** Restarts the server (after an install, or after another interpreter was selected). */
  restart(): Promise<void>;
}

/** Tells the user that `python` cannot run the server, and acts on the answer. */
export async function offerServerFix(
  python: string,
  check: Exclude<ServerCheck, { status: 'ok' }>,
  hooks: InstallHooks,
): Promise<void> {
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
  if (choice === install) await runInstall(python, hooks);
  if (choice === select) await selectInterpreter(hooks);
}

async function selectInterpreter(hooks: InstallHooks): Promise<void> {
  if (vscode.extensions.getExtension('ms-python.python')) {
    await vscode.commands.executeCommand('python.setInterpreter');
    await hooks.restart();
  } else {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'agrippa.server.python');
  }
}

async function runInstall(python: string, hooks: InstallHooks): Promise<void> {
  const { command, args } = installCommand(python);
  const terminal = vscode.window.createTerminal({ name: 'Agrippa: install', shellPath: command, shellArgs: args });
  terminal.show();
  hooks.log.appendLine(`install: ${[command, ...args].map((a) => shellQuote(a)).join(' ')}`);
  const deadline = Date.now() + 30 * 60_000;
  while (terminal.exitStatus === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
  }
  const code = terminal.exitStatus?.code;
  if (code === 0) {
    vscode.window.setStatusBarMessage('$(check) Agrippa: installed, starting the language server', 5000);
    await hooks.restart();
  } else {
    void vscode.window.showErrorMessage(`Agrippa: "pip install agrippa" failed (exit code ${code ?? 'unknown'}). See the terminal.`);
  }
}
