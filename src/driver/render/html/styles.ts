/**
 * The report's one style sheet, inlined in every page (the report is self-contained: no fonts,
 * no external files). Colour is never the only signal: every coloured mark has a text marker
 * or a title beside it.
 */
export const REPORT_CSS = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-soft: #f6f8fa;
  --hit: #dafbe1; --miss: #ffebe9; --unsafe: #bc4c00; --unsafe-bg: #fff1e5; --bad: #cf222e; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 24px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
a { color: #0969da; } code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
h1.mono { font-size: 18px; }
nav.crumbs { margin-bottom: 8px; color: var(--muted); }
.summary { display: flex; gap: 18px; flex-wrap: wrap; margin: 10px 0 4px; }
.summary span { background: var(--bg-soft); border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; }
.summary .bad { color: var(--bad); font-weight: 600; } .summary .good { color: var(--ok); font-weight: 600; }
table.grid { border-collapse: collapse; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; }
table.grid th { background: var(--bg-soft); } table.grid td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.grid tr.total td { font-weight: 600; background: var(--bg-soft); }
.status-pass { color: var(--ok); } .status-fail, .status-ub { color: var(--bad); font-weight: 600; }
ul.findings li { margin: 4px 0; }
.legend { color: var(--muted); margin: 6px 0 12px; } .legend span { margin-right: 14px; white-space: nowrap; }
table.source { border-collapse: collapse; width: 100%; }
table.source td { padding: 0 8px; vertical-align: top; }
table.source td.ln { text-align: right; color: var(--muted); user-select: none; width: 1%; white-space: nowrap; }
table.source td.ln a { color: inherit; text-decoration: none; }
table.source td.hits { width: 1%; white-space: nowrap; text-align: right; color: var(--muted); font-family: ui-monospace, monospace; font-size: 12px; }
table.source td.mark { width: 1%; white-space: nowrap; padding: 0 4px; font-size: 12px; color: var(--unsafe); }
table.source td.code { white-space: pre; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; width: 100%; }
tr.covered td.hits { background: var(--hit); color: var(--ok); } tr.covered td.code { background: #f0fff4; }
tr.uncovered td.hits { background: var(--miss); color: var(--bad); font-weight: 600; } tr.uncovered td.code { background: #fff5f5; }
tr.in-unsafe td.mark { background: var(--unsafe-bg); border-left: 3px solid var(--unsafe); }
tr.in-unsafe.unrun td.mark { background: var(--miss); border-left: 3px dashed var(--bad); color: var(--bad); }
tr:target td { outline: 2px solid #0969da; outline-offset: -2px; }
.region-tag { display: inline-block; margin-left: 12px; padding: 0 6px; border-radius: 4px; font-family: system-ui, sans-serif; font-size: 11.5px; background: var(--unsafe-bg); color: var(--unsafe); border: 1px solid #f0b37e; }
.fn-tag { display: inline-block; margin-left: 12px; padding: 0 6px; border-radius: 4px; font-family: system-ui, sans-serif; font-size: 11.5px; color: #57606a; border: 1px solid #d0d7de; }
.fn-tag.unrun { color: var(--bad); border-color: #ff8182; }
.region-tag.unrun { background: var(--miss); color: var(--bad); border-color: #ff8182; font-weight: 600; }
tr.finding td { padding: 6px 8px 10px; white-space: normal; }
.ub { border: 1px solid #ff8182; border-left: 4px solid var(--bad); border-radius: 6px; background: #fff; padding: 8px 12px; font-family: system-ui, sans-serif; font-size: 13.5px; }
.ub + .ub { margin-top: 8px; }
.ub h3 { margin: 0 0 4px; font-size: 14px; color: var(--bad); } .ub .test { color: var(--muted); font-size: 12.5px; }
.ub .label { margin: 4px 0; } .ub .label::before { content: "^ "; color: var(--bad); font-weight: 700; }
.ub ul { margin: 4px 0; padding-left: 48px; } .ub li.help::marker { content: "help: "; color: var(--muted); } .ub li.note::marker { content: "note: "; color: var(--muted); }
.ub li.note { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; }
.race { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin: 8px 0; }
.race section { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; background: var(--bg-soft); min-width: 0; }
.race h4 { margin: 0 0 4px; font-size: 13px; }
ol.backtrace { margin: 4px 0 0; padding-left: 26px; font-family: ui-monospace, monospace; font-size: 12px; }
ol.backtrace li { margin: 1px 0; } ol.backtrace .fn { font-weight: 600; }
details.bt summary { cursor: pointer; color: var(--muted); }
.muted { color: var(--muted); }
`;
