// The extension's commands. Every command the extension registers goes through
// registerCommands(), so the unit test can compare them with package.json's contributions.

export const COMMANDS = {
  compile: 'agrippa.compile',
  train: 'agrippa.train',
  restartServer: 'agrippa.restartServer',
  selectProfile: 'agrippa.selectProfile',
  showGraph: 'agrippa.showGraph',
  showExpanded: 'agrippa.showExpanded',
} as const;

export type CommandKey = keyof typeof COMMANDS;
export type CommandId = (typeof COMMANDS)[CommandKey];

/** Server-side `workspace/executeCommand` names used by the client. */
export const SERVER_COMMANDS = {
  compile: 'agrippa.compile',
  train: 'agrippa.train',
  listProfiles: 'agrippa.listProfiles',
  selectProfile: 'agrippa.selectProfile',
} as const;

export interface Disposable {
  dispose(): unknown;
}

/** The part of `vscode.commands` used here (a fake in tests). */
export interface CommandRegistry {
  registerCommand(id: string, handler: (...args: any[]) => unknown): Disposable;
}

export type CommandHandlers = Record<CommandKey, (...args: any[]) => unknown>;

export function registerCommands(registry: CommandRegistry, handlers: CommandHandlers): Disposable[] {
  return (Object.keys(COMMANDS) as CommandKey[]).map((key) => registry.registerCommand(COMMANDS[key], handlers[key]));
}

/**
 * Command ids that the language client must NOT register on its own when the server lists
 * them in `executeCommandProvider` (the extension owns them: registering twice throws).
 */
export const CLIENT_OWNED_SERVER_COMMANDS: ReadonlySet<string> = new Set<string>([
  ...Object.values(COMMANDS),
  ...Object.values(SERVER_COMMANDS),
]);
