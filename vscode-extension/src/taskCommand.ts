// The `agrippa` task type: its definition (package.json `taskDefinitions`), the command line
// each task runs and the problem matcher for `agrippa check`/`compile` output. Pure logic:
// tasks.ts turns it into vscode.Tasks, and test/tasks.test.ts checks it against package.json.

export const TASK_TYPE = 'agrippa';
export const TASK_COMMANDS = ['check', 'compile', 'train'] as const;
export type TaskCommand = (typeof TASK_COMMANDS)[number];

/** The problem matcher contributed in package.json (`problemMatchers`, name `agrippa`). */
export const PROBLEM_MATCHER = '$agrippa';

/**
 * A line of `agrippa check` (and compile) output: `file:line:col: severity: message [code]`,
 * 1-based. `information` is captured as `info` (the spelling VS Code's matcher knows).
 * Kept equal to package.json's problem matcher regexp (a test compares them).
 */
export const CHECK_LINE_PATTERN = '^(.+?):(\\d+):(\\d+): (error|warning|info|hint)(?:rmation)?: (.*?)(?: \\[([A-Za-z0-9_.-]+)\\])?$';

export interface AgrippaTaskDefinition {
  type: typeof TASK_TYPE;
  /** What to run: `agrippa check`, `agrippa compile` or `agrippa train`. */
  command: TaskCommand;
  /** The project folder or model file, relative to the workspace folder (default `.`). */
  path?: string;
  /** More arguments, e.g. ["--profile", "small"]. */
  args?: string[];
}

export function isTaskCommand(value: unknown): value is TaskCommand {
  return typeof value === 'string' && (TASK_COMMANDS as readonly string[]).includes(value);
}

/** The task's label in "Run Task" (VS Code shows it as `agrippa: <label>`). */
export function taskLabel(command: TaskCommand, path = '.'): string {
  return path === '.' || path === '' ? command : `${command} ${path}`;
}

/**
 * The process a task runs: `<python> -m agrippa.cli <command> <path> [args...]`, with the
 * interpreter that runs the language server, in the workspace folder.
 */
export function taskCommandLine(python: string, def: Pick<AgrippaTaskDefinition, 'command' | 'path' | 'args'>): { command: string; args: string[] } {
  const extra = Array.isArray(def.args) ? def.args.filter((a): a is string => typeof a === 'string') : [];
  return { command: python, args: ['-m', 'agrippa.cli', def.command, def.path?.trim() || '.', ...extra] };
}
