// Workspace Trust. Analysis (the language server) reads files and never runs the project's
// code, so it works in an untrusted folder. Training imports the project's `data.py`: it is
// hidden from the menus there (`isWorkspaceTrusted` in package.json) and refused, with a
// message, when invoked anyway. The server's interpreter setting is a restricted one:
// an untrusted folder's settings cannot choose the program the extension starts.
// No `vscode` import: the gate is plain logic over what the caller passes (unit-tested).

export const TRAIN_UNTRUSTED =
  "Agrippa: training runs this project's Python code (data.py), so it is disabled in an untrusted folder. " +
  'Trust the folder to train; analysis works either way.';
export const MANAGE_TRUST = 'Manage Workspace Trust';

export interface TrustUi {
  isTrusted: boolean;
  warn(message: string, ...items: string[]): Thenable<string | undefined>;
  manageTrust(): Thenable<unknown>;
}

/** Whether a command that runs the project's code may run; in an untrusted folder it shows
 * why not, offering to manage trust. */
export async function requireTrust(ui: TrustUi, message = TRAIN_UNTRUSTED): Promise<boolean> {
  if (ui.isTrusted) return true;
  const pick = await ui.warn(message, MANAGE_TRUST);
  if (pick === MANAGE_TRUST) await ui.manageTrust();
  return false;
}
