// Identifiers shared by the extension's modules.

/** The language id contributed in package.json. */
export const LANGUAGE_ID = 'agrippa';

/** The configuration section (`agrippa.*` settings). */
export const CONFIG = 'agrippa';

/** The documents the language server gets: Agrippa markup, and each project's agrippa.toml
 *  (hover and completion of its tables and keys; its diagnostics). */
export const DOCUMENT_SELECTOR: { scheme: string; language?: string; pattern?: string }[] = [
  { scheme: 'file', language: LANGUAGE_ID },
  { scheme: 'untitled', language: LANGUAGE_ID },
  { scheme: 'file', pattern: '**/agrippa.toml' },
];
