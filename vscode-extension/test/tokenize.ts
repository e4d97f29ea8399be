// Tokenize text with the extension's TextMate grammar, outside VS Code
// (vscode-textmate + vscode-oniguruma, the libraries VS Code itself uses).
import * as fs from 'fs';
import * as path from 'path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';

export const EXT_ROOT = path.resolve(__dirname, '..', '..');
const GRAMMAR = path.join(EXT_ROOT, 'syntaxes', 'agrippa.tmLanguage.json');

export interface Token {
  text: string;
  scopes: string[];
}

let grammarPromise: Promise<vsctm.IGrammar> | undefined;

export function loadGrammar(): Promise<vsctm.IGrammar> {
  if (!grammarPromise) {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    const onigLib = oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength)).then(() => ({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }));
    const registry = new vsctm.Registry({
      onigLib,
      loadGrammar: async (scopeName) => {
        if (scopeName !== 'text.xml.agrippa') return null;
        return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR);
      },
    });
    grammarPromise = registry.loadGrammar('text.xml.agrippa').then((g) => {
      if (!g) throw new Error('grammar not found');
      return g;
    });
  }
  return grammarPromise;
}

/** Tokens of every line of `text`, the rule stack carried from line to line. */
export async function tokenize(text: string): Promise<Token[][]> {
  const grammar = await loadGrammar();
  let state = vsctm.INITIAL;
  const out: Token[][] = [];
  for (const line of text.split('\n')) {
    const r = grammar.tokenizeLine(line, state);
    out.push(
      r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes })),
    );
    state = r.ruleStack;
  }
  return out;
}

/** Scopes of the first token (over all lines) whose text is exactly `text` (after `nth` skips). */
export function scopesOf(lines: Token[][], text: string, nth = 0): string[] {
  let seen = 0;
  for (const line of lines) {
    for (const t of line) {
      if (t.text === text) {
        if (seen === nth) return t.scopes;
        seen++;
      }
    }
  }
  const all = lines.map((l) => l.map((t) => JSON.stringify(t.text)).join(' ')).join('\n');
  throw new Error(`no token ${JSON.stringify(text)} (#${nth}) in:\n${all}`);
}
