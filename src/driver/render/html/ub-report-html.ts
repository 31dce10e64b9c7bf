/**
 * One finding as HTML, shown under its line on a source page: the headline, the label, the help
 * lines (with links to the places they point at), the notes and the backtrace. A data race shows
 * its two accesses side by side, each with its thread and backtrace (Miri's (1) and (2)).
 */
import type { Frame, SourceLocation, UBReport } from "../../../interp/report.js";
import { headline } from "../render.js";
import { escapeHtml } from "./escape.js";

/** Turns a source position into a link target (`file.html#L12`), or `undefined` when it has no page. */
export type LocationLink = (location: SourceLocation) => string | undefined;

/** A finding and where it comes from. */
export interface PlacedFinding {
  report: UBReport;
  /** The test that found it (`module::name`), when known. */
  test?: string;
  /** Its anchor id on the page (`ub-3`), unique in the report. */
  id: string;
}

/**
 * `file:line:column`, linked to its line when the file has a page.
 * @param location - the position.
 * @param link - the report's link maker.
 */
export function locationHtml(location: SourceLocation, link: LocationLink): string {
  const text = escapeHtml(`${location.file}:${location.line}:${location.column}`);
  const href = link(location);
  return href === undefined ? `<span class="mono">${text}</span>` : `<a class="mono" href="${escapeHtml(href)}">${text}</a>`;
}

/**
 * A backtrace as a numbered list, innermost frame first (numbered from 0 as Rust prints it).
 * @param frames - the frames.
 * @param link - the report's link maker.
 */
export function backtraceHtml(frames: readonly Frame[], link: LocationLink): string {
  if (frames.length === 0) return `<p class="muted">no backtrace</p>`;
  const items = frames.map((f) => `<li><span class="fn">${escapeHtml(f.fn)}</span> at ${locationHtml(f.location, link)}</li>`);
  return `<ol class="backtrace" start="0">${items.join("")}</ol>`;
}

/** The two accesses of a race, side by side; `""` when the report does not carry them. */
function raceHtml(report: UBReport, link: LocationLink): string {
  const race = report.race;
  if (!race) return "";
  const earlierAt = race.earlier.backtrace[0]?.location;
  const column = (n: string, access: string, thread: string, at: SourceLocation | undefined, frames: readonly Frame[]) =>
    `<section class="access access-${n === "1" ? "earlier" : "current"}">` +
    `<h4>(${n}) ${escapeHtml(access)} on thread <code class="thread">${escapeHtml(thread)}</code></h4>` +
    (at ? `<div>at ${locationHtml(at, link)}</div>` : "") +
    backtraceHtml(frames, link) +
    `</section>`;
  return (
    `<div class="race" role="group" aria-label="the two racing accesses">` +
    column("1", race.earlier.access, race.earlier.thread, earlierAt, race.earlier.backtrace) +
    column("2", race.current.access, report.thread, report.location, report.backtrace) +
    `</div>`
  );
}

/**
 * A finding as an HTML block (`<div class="ub" id=…>`).
 * @param finding - the report, its test and its anchor id.
 * @param link - the report's link maker.
 */
export function ubReportHtml(finding: PlacedFinding, link: LocationLink): string {
  const r = finding.report;
  const parts: string[] = [];
  parts.push(`<div class="ub ub-${escapeHtml(r.kind)}" id="${escapeHtml(finding.id)}">`);
  parts.push(`<h3>error: ${escapeHtml(headline(r))}</h3>`);
  const where = `at ${locationHtml(r.location, link)} on thread <code class="thread">${escapeHtml(r.thread)}</code>`;
  parts.push(`<div class="test">${finding.test ? `in test <code>${escapeHtml(finding.test)}</code>, ` : ""}${where} · kind <code>${escapeHtml(r.kind)}</code></div>`);
  if (r.label) parts.push(`<div class="label">${escapeHtml(r.label)}</div>`);
  parts.push(raceHtml(r, link));
  const help = (r.help ?? []).map((h) => `<li class="help">${escapeHtml(h.message)}${h.location ? ` ${locationHtml(h.location, link)}` : ""}</li>`);
  const raceNote = r.race ? /^\(1\) was on thread/ : null;
  const notes = (r.notes ?? []).filter((n) => !(raceNote && raceNote.test(n))).map((n) => `<li class="note">${escapeHtml(n)}</li>`);
  if (help.length + notes.length > 0) parts.push(`<ul>${help.join("")}${notes.join("")}</ul>`);
  if (!r.race) parts.push(`<div class="muted">stack backtrace:</div>${backtraceHtml(r.backtrace ?? [], link)}`);
  parts.push(`</div>`);
  return parts.join("");
}
