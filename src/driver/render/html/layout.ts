/**
 * The frame of every page of the HTML report: a complete, self-contained document with the
 * style sheet inlined, no scripts and no external resources.
 */
import { escapeHtml } from "./escape.js";
import { REPORT_CSS } from "./styles.js";

/**
 * A whole HTML document.
 * @param title - the page title (plain text; escaped here).
 * @param body - the body's HTML (already escaped by the caller).
 */
export function htmlDocument(title: string, body: string): string {
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    // No network, ever: the report is opened from disk and shows the untrusted program's text.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">\n` +
    `<title>${escapeHtml(title)}</title>\n<style>${REPORT_CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`
  );
}
