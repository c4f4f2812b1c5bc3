const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * Quotes a value so that bash reads it back as exactly one word, whatever it holds. Control
 * characters (newlines included) use ANSI-C quoting, so a rendered header never spans lines and
 * cannot end the here-document that carries the script. `$'...'` is bash (and ksh, zsh), not
 * POSIX sh: a command that a login shell may run goes through `posixQuote` instead.
 */
export function shellQuote(value: string): string {
  if (!CONTROL.test(value)) return posixQuote(value);
  const escaped = [...value]
    .map((ch) => {
      const code = ch.charCodeAt(0);
      if (ch === "\\") return "\\\\";
      if (ch === "'") return "\\'";
      if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
      return ch;
    })
    .join("");
  return `$'${escaped}'`;
}

/**
 * Quotes a value for any POSIX shell (dash too): safe words bare, the rest single-quoted with each
 * embedded `'` closed, escaped and reopened. A control character stays literal inside the quotes,
 * so the word may span lines.
 */
export function posixQuote(value: string): string {
  if (value !== "" && SAFE_WORD.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each argument for a POSIX shell and joins them into one command line. */
export function command(...args: string[]): string {
  return args.map(posixQuote).join(" ");
}

/**
 * Reads back words as `shellQuote` writes them (bare, '...' with '\'' for a quote, $'...' with
 * \\, \' and \xHH escapes), separated by spaces: the inverse used to show a parameter's value.
 */
export function parseShellWords(text: string): string[] {
  const words: string[] = [];
  let at = 0;
  while (at < text.length) {
    if (text[at] === " ") {
      at++;
      continue;
    }
    let word = "";
    while (at < text.length && text[at] !== " ") {
      if (text.startsWith("$'", at)) {
        at += 2;
        while (at < text.length && text[at] !== "'") {
          if (text[at] === "\\") {
            const next = text[at + 1];
            if (next === "x") {
              word += String.fromCharCode(parseInt(text.slice(at + 2, at + 4), 16));
              at += 4;
            } else {
              word += next;
              at += 2;
            }
          } else word += text[at++];
        }
        at++;
      } else if (text[at] === "'") {
        const end = text.indexOf("'", at + 1);
        if (end < 0) throw new Error(`unterminated quote in ${text}`);
        word += text.slice(at + 1, end);
        at = end + 1;
      } else if (text[at] === "\\") {
        word += text[at + 1];
        at += 2;
      } else word += text[at++];
    }
    words.push(word);
  }
  return words;
}
