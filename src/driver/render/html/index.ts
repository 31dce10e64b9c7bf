/**
 * The HTML report of `kmiri test --html DIR`: {@link renderHtmlReport} (pure) and
 * {@link writeHtmlReport}.
 * @module
 */
export { renderHtmlReport, writeHtmlReport, type HtmlReportOptions } from "./html-report.js";
export { escapeHtml } from "./escape.js";
