// Identifiers shared by the extension's modules.

/** The language id contributed in package.json. */
export const LANGUAGE_ID = 'agrippa';

/** The configuration section (`agrippa.*` settings). */
export const CONFIG = 'agrippa';
