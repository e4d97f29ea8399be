// Which Python runs the language server, and whether `agrippa_lsp` is importable there.
// Pure logic: everything that touches VS Code or spawns processes is passed in, so the
// unit tests drive it with fakes (test/interpreter.test.ts).

export type InterpreterSource =
  | 'agrippa.server.python'
  | 'python-extension'
  | 'python.defaultInterpreterPath'
  | 'fallback';

export interface InterpreterInputs {
  /** The `agrippa.server.python` setting ('' or undefined: not set). */
  configured?: string;
  /**
   * Asks the Python extension (ms-python.python) for its active interpreter; undefined when
   * that extension is not installed. May reject or return undefined.
   */
  pythonExtension?: () => Promise<string | undefined>;
  /** `python.defaultInterpreterPath`, only when the user set it (not the built-in default). */
  defaultInterpreterPath?: string;
  /** First workspace folder's fs path, for `${workspaceFolder}`. */
  workspaceFolder?: string;
  homeDir?: string;
  env?: Record<string, string | undefined>;
  platform?: string;
}

export interface ResolvedInterpreter {
  python: string;
  source: InterpreterSource;
}

/** Expand `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}` in a path setting. */
export function expandPath(
  value: string,
  ctx: { workspaceFolder?: string; homeDir?: string; env?: Record<string, string | undefined> } = {},
): string {
  let v = value.trim();
  const home = ctx.homeDir ?? '';
  if (home && (v === '~' || v.startsWith('~/') || v.startsWith('~\\'))) {
    v = home + v.slice(1);
  }
  v = v.replace(/\$\{(userHome|workspaceFolder|workspaceRoot|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (m, key: string, envName?: string) => {
    if (key === 'userHome') return home || m;
    if (key === 'workspaceFolder' || key === 'workspaceRoot') return ctx.workspaceFolder ?? m;
    return ctx.env?.[envName as string] ?? '';
  });
  return v;
}

/** The interpreter used when nothing is configured. */
export function fallbackPython(platform: string = process.platform): string {
  return platform === 'win32' ? 'python' : 'python3';
}

/**
 * Order: the `agrippa.server.python` setting, then the Python extension's selected
 * interpreter, then `python.defaultInterpreterPath`, then `python3`.
 */
export async function resolveInterpreter(inputs: InterpreterInputs): Promise<ResolvedInterpreter> {
  const ctx = { workspaceFolder: inputs.workspaceFolder, homeDir: inputs.homeDir, env: inputs.env };
  const configured = inputs.configured?.trim();
  if (configured) {
    return { python: expandPath(configured, ctx), source: 'agrippa.server.python' };
  }
  if (inputs.pythonExtension) {
    try {
      const fromExt = (await inputs.pythonExtension())?.trim();
      if (fromExt) return { python: expandPath(fromExt, ctx), source: 'python-extension' };
    } catch {
      // the Python extension failed to answer: fall through to the next source
    }
  }
  const dip = inputs.defaultInterpreterPath?.trim();
  if (dip) {
    return { python: expandPath(dip, ctx), source: 'python.defaultInterpreterPath' };
  }
  return { python: fallbackPython(inputs.platform), source: 'fallback' };
}

/** argv that starts the server over stdio. */
export function serverCommand(python: string): { command: string; args: string[] } {
  return { command: python, args: ['-m', 'agrippa_lsp'] };
}

/** argv that installs the server into `python`. */
export function installCommand(python: string): { command: string; args: string[] } {
  return { command: python, args: ['-m', 'pip', 'install', 'agrippa'] };
}

export interface RunResult {
  /** exit code; null when the process could not be started or was killed */
  code: number | null;
  stderr: string;
  /** e.g. 'ENOENT' when the interpreter does not exist */
  errorCode?: string;
}

export type Runner = (command: string, args: string[]) => Promise<RunResult>;

export type ServerCheck =
  | { status: 'ok' }
  | { status: 'no-python'; detail: string }
  | { status: 'not-installed'; detail: string };

/** Runs `<python> -c "import agrippa_lsp"` and classifies the outcome. */
export async function checkServerInstalled(python: string, run: Runner): Promise<ServerCheck> {
  let r: RunResult;
  try {
    r = await run(python, ['-c', 'import agrippa_lsp']);
  } catch (e) {
    return { status: 'no-python', detail: String(e) };
  }
  if (r.code === 0) return { status: 'ok' };
  if (r.errorCode === 'ENOENT' || r.errorCode === 'EACCES' || (r.code === null && r.errorCode)) {
    return { status: 'no-python', detail: `${python}: ${r.errorCode}` };
  }
  const lastLine = r.stderr.trim().split(/\r?\n/).pop() ?? '';
  return { status: 'not-installed', detail: lastLine || `exit code ${r.code}` };
}

/** Quote one argument for a POSIX shell or PowerShell/cmd (display and terminal use). */
export function shellQuote(arg: string, platform: string = process.platform): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  if (platform === 'win32') return `"${arg.replace(/"/g, '\\"')}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
