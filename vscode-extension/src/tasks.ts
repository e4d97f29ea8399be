// Tasks of type `agrippa` ("Tasks: Run Task" → agrippa): check, compile and train for each
// workspace folder, run as `<python> -m agrippa.cli <command> <path>` with the interpreter
// that runs the language server (pythonInterpreter.ts), their output matched by the
// `$agrippa` problem matcher. Tasks written in tasks.json (`"type": "agrippa"`) are resolved
// the same way. The command lines come from taskCommand.ts (unit-tested).
import * as vscode from 'vscode';

import { ResolvedInterpreter } from './interpreter';
import { AgrippaTaskDefinition, isTaskCommand, PROBLEM_MATCHER, TASK_COMMANDS, TASK_TYPE, taskCommandLine, taskLabel } from './taskCommand';

const SOURCE = 'agrippa';

export class AgrippaTaskProvider implements vscode.TaskProvider {
  /** `interpreter`: the server's interpreter (resolved as when the server starts). */
  constructor(private readonly interpreter: () => Promise<ResolvedInterpreter>) {}

  async provideTasks(): Promise<vscode.Task[]> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) return [];
    const { python } = await this.interpreter();
    const tasks: vscode.Task[] = [];
    for (const folder of folders) {
      for (const command of TASK_COMMANDS) {
        tasks.push(buildTask(folder, { type: TASK_TYPE, command, path: '.' }, python));
      }
    }
    return tasks;
  }

  async resolveTask(task: vscode.Task): Promise<vscode.Task | undefined> {
    const def = task.definition as AgrippaTaskDefinition;
    if (def.type !== TASK_TYPE || !isTaskCommand(def.command)) return undefined;
    const folder = isFolder(task.scope) ? task.scope : vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    const { python } = await this.interpreter();
    // the definition object must be the one from tasks.json (VS Code matches on it)
    return buildTask(folder, def, python, task.name);
  }
}

function isFolder(scope: vscode.Task['scope']): scope is vscode.WorkspaceFolder {
  return typeof scope === 'object' && scope !== null && 'uri' in scope;
}

export function buildTask(folder: vscode.WorkspaceFolder, def: AgrippaTaskDefinition, python: string, name?: string): vscode.Task {
  const { command, args } = taskCommandLine(python, def);
  const execution = new vscode.ProcessExecution(command, args, {
    cwd: folder.uri.fsPath,
    env: { PYTHONUNBUFFERED: '1' },
  });
  const task = new vscode.Task(def, folder, name ?? taskLabel(def.command, def.path), SOURCE, execution, [PROBLEM_MATCHER]);
  if (def.command === 'compile') task.group = vscode.TaskGroup.Build;
  task.detail = `${[command, ...args].join(' ')}`;
  task.presentationOptions = { reveal: def.command === 'train' ? vscode.TaskRevealKind.Always : vscode.TaskRevealKind.Silent, clear: true };
  return task;
}

/** Registers the provider for tasks of type `agrippa`. */
export function registerTaskProvider(interpreter: () => Promise<ResolvedInterpreter>): vscode.Disposable {
  return vscode.tasks.registerTaskProvider(TASK_TYPE, new AgrippaTaskProvider(interpreter));
}
