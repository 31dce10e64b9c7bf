/**
 * Escaping for the HTML report. Everything the report shows comes from the program under test
 * (its sources, its messages, its thread names), which is untrusted: every piece of text goes
 * through {@link escapeHtml} before it is put into a page.
 */

/**
 * Text made safe to place in HTML content or in a quoted attribute value.
 * @param text - any text.
 * @returns the text with `&`, `<`, `>`, `"` and `'` as character references.
 * @example
 * ```ts
 * escapeHtml("</pre><script>") // "&lt;/pre&gt;&lt;script&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
