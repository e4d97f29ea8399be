// Is an .xml document an Agrippa model? Its root element must be <model>.

/** The same test VS Code applies with the `firstLine` pattern contributed in package.json. */
export const FIRST_LINE = /^\s*(<\?xml[^>]*>\s*)?<model\b/;

/**
 * True when the first element of `text` is `<model ...>`: skips a BOM, the XML declaration,
 * processing instructions, comments, a DOCTYPE and whitespace. Only looks at the first 64 KiB.
 */
export function isAgrippaXml(text: string): boolean {
  let s = text.slice(0, 65536);
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  let i = 0;
  for (;;) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (s.startsWith('<?', i)) {
      const end = s.indexOf('?>', i + 2);
      if (end < 0) return false;
      i = end + 2;
    } else if (s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4);
      if (end < 0) return false;
      i = end + 3;
    } else if (s.startsWith('<!DOCTYPE', i) || s.startsWith('<!doctype', i)) {
      const end = s.indexOf('>', i);
      if (end < 0) return false;
      i = end + 1;
    } else {
      return /^<model(?=[\s/>]|$)/.test(s.slice(i, i + 7));
    }
  }
}
