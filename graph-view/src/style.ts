// The view's CSS (one string: the bundle is one file). VS Code's theme variables when present.
export const CSS = `
.agv-root{--bg:var(--vscode-editor-background,#fbfbfd);--fg:var(--vscode-editor-foreground,#1d2330);
--muted:var(--vscode-descriptionForeground,#687086);--panel:var(--vscode-sideBar-background,#f1f2f6);
--border:var(--vscode-panel-border,#cdd1dc);--accent:var(--vscode-focusBorder,#3a6ff7);--err:#d93a3a;
--node:#ffffff;--group:#eef3ff;--rep:#f3ecff;--stretch:#e9f7f1;--sourced:#fff6e6;
position:absolute;inset:0;display:flex;flex-direction:column;background:var(--bg);color:var(--fg);
font:13px/1.35 system-ui,-apple-system,'Segoe UI',sans-serif;overflow:hidden}
.agv-bar{display:flex;gap:6px;align-items:center;padding:6px 8px;border-bottom:1px solid var(--border);flex-wrap:wrap}
.agv-bar button,.agv-bar select,.agv-bar input{font:inherit;color:inherit;background:var(--panel);border:1px solid var(--border);border-radius:4px;padding:2px 8px}
.agv-bar button:hover{border-color:var(--accent)}
.agv-crumbs{display:flex;gap:2px;align-items:center;flex:1;min-width:120px;overflow:hidden;white-space:nowrap}
.agv-crumbs a{cursor:pointer;color:var(--accent);text-decoration:none}.agv-crumbs span.sep{color:var(--muted);margin:0 3px}
.agv-search{position:relative}.agv-search input{width:180px}
.agv-results{position:absolute;top:100%;right:0;z-index:10;background:var(--bg);border:1px solid var(--border);max-height:320px;overflow:auto;min-width:260px;box-shadow:0 4px 14px #0003}
.agv-results div{padding:3px 8px;cursor:pointer;white-space:nowrap}.agv-results div:hover,.agv-results div.active{background:var(--panel)}
.agv-results small{color:var(--muted);margin-left:6px}
.agv-main{flex:1;display:flex;min-height:0}
.agv-canvas{flex:1;position:relative;min-width:0}
.agv-svg{display:block;cursor:grab;user-select:none}.agv-svg.dragging{cursor:grabbing}.agv-svg.agv-lod text{display:none}
.agv-side{width:300px;border-left:1px solid var(--border);background:var(--panel);overflow:auto;padding:8px 10px;font-size:12px}
.agv-side.hidden{display:none}
.agv-side h3{margin:2px 0 6px;font-size:14px}.agv-side h4{margin:10px 0 4px;font-size:12px;color:var(--muted);text-transform:uppercase}
.agv-side table{border-collapse:collapse;width:100%}.agv-side td{padding:1px 4px;vertical-align:top;border-bottom:1px solid var(--border);word-break:break-all}
.agv-side .desc{white-space:pre-wrap}.agv-side .err{color:var(--err)}.agv-side code{font-size:11px}
.agv-side a{color:var(--accent);cursor:pointer}
.agv-banner{padding:4px 10px;background:#fff3cd;color:#5c4400;border-bottom:1px solid #e8d48a;font-size:12px}
.agv-banner.hidden{display:none}
.agv-status{position:absolute;left:8px;bottom:6px;color:var(--muted);font-size:11px;pointer-events:none}
.agv-item{cursor:pointer}
.agv-box{fill:var(--node);stroke:#8a93a8;stroke-width:1}
.agv-group .agv-box{fill:var(--group)}.kind-rep .agv-box,.kind-rep .agv-stack{fill:var(--rep)}
.kind-stretch .agv-box,.kind-stretch .agv-stack{fill:var(--stretch)}.kind-sourced .agv-box{fill:var(--sourced)}
.agv-stack{stroke:#8a93a8;stroke-width:1;fill:var(--group)}
.agv-group-rect{fill:var(--group);fill-opacity:.35;stroke:#8a93a8;stroke-dasharray:4 3}
.kind-rep .agv-group-rect{fill:var(--rep)}.kind-stretch .agv-group-rect{fill:var(--stretch)}.kind-sourced .agv-group-rect{fill:var(--sourced)}
.agv-group-header{fill:#8a93a8;fill-opacity:.18}
.agv-title{font-weight:600;font-size:12px;fill:#1d2330}.agv-sub{font-size:11px;fill:#596079}
.agv-group-title{font-size:12px;font-weight:600;fill:#1d2330}
.agv-toggle rect{fill:#fff;stroke:#8a93a8}.agv-toggle-text{font-size:13px;font-weight:700;fill:#1d2330}
.agv-input rect,.agv-output rect{fill:#e7f0ff;stroke:#6b8bd6}.agv-output rect{fill:#e9f8ee;stroke:#5aa874}
.agv-io-text{font-size:11px;fill:#1d2330}
.agv-item.error .agv-box,.agv-item.error>.agv-group-rect{stroke:var(--err);stroke-width:2;fill:#fde2e2}
.agv-edge path{fill:none;stroke:#7d869c;stroke-width:1.2}.agv-arrowhead{fill:#7d869c}
.agv-edge.mismatch path{stroke:var(--err);stroke-width:2;stroke-dasharray:5 3}.agv-arrowhead.bad{fill:var(--err)}
.agv-edge-label{font-size:10px;fill:#4d5568;paint-order:stroke;stroke:var(--bg,#fff);stroke-width:3px}
.agv-edge.mismatch .agv-edge-label{fill:var(--err)}
.agv-item.selected .agv-box,.agv-item.selected>.agv-group-rect,.agv-item.selected rect:first-child{stroke:var(--accent);stroke-width:2.5}
.agv-item.cursor .agv-box,.agv-item.cursor>.agv-group-rect{stroke:#f0a020;stroke-width:3}
.agv-item.found .agv-box{stroke:#f0a020;stroke-width:3}
.agv-stale .agv-viewport{opacity:.55}
`;

/** The subset of the CSS an exported SVG needs (light colours, no theme variables). */
export const EXPORT_CSS = CSS.replace(/var\(--vscode-[a-zA-Z-]+,([^)]+)\)/g, '$1');
