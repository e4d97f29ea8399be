// Auto-closing of tags: after the `>` of a start tag is typed, insert the end tag.

const NAME = '[A-Za-z_][-A-Za-z0-9_.:]*';
// a complete start tag at the very end of the text: <name attr="v" attr='v' >
const START_TAG_AT_END = new RegExp(`<(${NAME})(?:\\s+${NAME}\\s*=\\s*(?:"[^"]*"|'[^']*'))*\\s*>$`);

/**
 * `before` is the line (or document) text up to and including the `>` just typed;
 * `after` is the text that follows the cursor. Returns the end tag to insert after the
 * cursor (e.g. `</node>`), or undefined when nothing should be inserted.
 */
export function closingTagFor(before: string, after = ''): string | undefined {
  if (!before.endsWith('>') || before.endsWith('/>') || before.endsWith('->') || before.endsWith('?>')) {
    return undefined;
  }
  // look back from the last '<' that can start this tag (attribute values may contain '>')
  let from = before.length;
  for (let tries = 0; tries < 50; tries++) {
    const lt = before.lastIndexOf('<', from - 1);
    if (lt < 0) return undefined;
    const m = START_TAG_AT_END.exec(before.slice(lt));
    if (m && m.index === 0) {
      const name = m[1];
      if (after.trimStart().startsWith(`</${name}`)) return undefined;
      return `</${name}>`;
    }
    from = lt;
  }
  return undefined;
}
